import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expectData, expectItems, expectNoContent, ISO_UTC } from './support/envelope';
import { client, createRoleOrg, RoleOrg } from './support/pt-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { Answer, ReceivedHook, sleep, verified, WebhookReceiver } from './support/webhook-receiver';

interface DeliveryBody {
  id: string;
  eventId: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}

const ENV = { JOB_POLL_INTERVAL_MS: '500', WEBHOOK_RETRY_DELAY_SECONDS: '1' };

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('webhook delivery: retries, timeouts, redirects, several instances', () => {
  let t: TestApp;
  let org: RoleOrg;
  let receiver: WebhookReceiver;
  /** How the receiver answers the n-th request (1 for the first) at a path; 204 elsewhere. */
  const answers: Record<string, (n: number) => Answer> = {};

  beforeAll(async () => {
    receiver = await new WebhookReceiver((index) => {
      const { path } = receiver.received[index];
      const n = receiver.received.slice(0, index + 1).filter((h) => h.path === path).length;
      return answers[path]?.(n) ?? { status: 204 };
    }).start();
    t = await createTestApp({ env: ENV });
    org = await createRoleOrg(t, 'Delivery Org');
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  async function webhook(url: string, events = ['org.deleted']): Promise<{ id: string; secret: string }> {
    return expectData<{ id: string; secret: string }>(
      await client(t, org.users.admin).post(`/api/v1/orgs/${org.orgId}/webhooks`, { url, events }),
      201,
    );
  }

  const ping = async (webhookId: string): Promise<DeliveryBody> =>
    expectData<DeliveryBody>(await client(t, org.users.admin).post(`/api/v1/webhooks/${webhookId}/ping`, {}), 202);

  /** Polls the delivery until `until` holds (or fails after `timeoutMs`). */
  async function deliveryWhen(
    webhookId: string,
    deliveryId: string,
    until: (d: DeliveryBody) => boolean,
    timeoutMs = 10_000,
  ): Promise<DeliveryBody> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = expectItems<DeliveryBody>(
        await client(t, org.users.admin).get(`/api/v1/webhooks/${webhookId}/deliveries`),
      );
      const delivery = log.find((d) => d.id === deliveryId)!;
      if (until(delivery)) return delivery;
      if (Date.now() > deadline) throw new Error(`Delivery still ${JSON.stringify(delivery)}`);
      await sleep(100);
    }
  }

  const at = (path: string) => (hook: ReceivedHook) => hook.path === path;

  it('a 500 is retried after the first delay; then 2xx: same id and body, every attempt recorded', async () => {
    answers['/flaky'] = (n) => ({ status: n === 1 ? 500 : 204 });
    const hook = await webhook(`${receiver.url}/flaky`);
    const delivery = await ping(hook.id);
    const failed = await deliveryWhen(hook.id, delivery.id, (d) => d.attempts >= 1);
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });
    expect(failed.nextAttemptAt).toMatch(ISO_UTC);
    const [a, b] = await receiver.waitFor(2, { filter: at('/flaky') });
    expect(b.at - a.at).toBeGreaterThanOrEqual(900);
    expect(b.body).toBe(a.body);
    expect(b.headers['webhook-id']).toBe(a.headers['webhook-id']);
    expect(verified<{ id: string }>(b, hook.secret).id).toBe(delivery.eventId);
    const done = await deliveryWhen(hook.id, delivery.id, (d) => d.status !== 'pending');
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 2,
      lastStatusCode: 204,
      lastError: null,
      nextAttemptAt: null,
    });
  });

  it('a redirect is not followed: its target is never contacted; the attempt is recorded and retried', async () => {
    const target = await new WebhookReceiver().start();
    try {
      answers['/moved'] = () => ({ status: 302, location: `${target.url}/elsewhere` });
      const hook = await webhook(`${receiver.url}/moved`);
      const delivery = await ping(hook.id);
      const after = await deliveryWhen(hook.id, delivery.id, (d) => d.attempts >= 2);
      expect(after).toMatchObject({ status: 'pending', lastStatusCode: 302, lastError: 'redirect not followed' });
      await sleep(300);
      expect(target.received).toEqual([]);
      // Stop it retrying for the rest of the file.
      expectData(await client(t, org.users.admin).patch(`/api/v1/webhooks/${hook.id}`, { active: false }));
    } finally {
      await target.stop();
    }
  });

  it('a receiver that does not answer within 10 s: a timeout, retried', async () => {
    answers['/slow'] = (n) => (n === 1 ? 'hang' : { status: 204 });
    const hook = await webhook(`${receiver.url}/slow`);
    const delivery = await ping(hook.id);
    const timedOut = await deliveryWhen(hook.id, delivery.id, (d) => d.attempts >= 1, 15_000);
    expect(timedOut).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null, lastError: 'timeout' });
    const [a, b] = await receiver.waitFor(2, { filter: at('/slow'), timeoutMs: 15_000 });
    expect(b.at - a.at).toBeGreaterThanOrEqual(10_000);
    expect(b.body).toBe(a.body);
    expect(await deliveryWhen(hook.id, delivery.id, (d) => d.status !== 'pending')).toMatchObject({
      status: 'succeeded',
      attempts: 2,
    });
  }, 40_000);

  it('a refused connection is retried, at the URL the webhook has when the retry runs', async () => {
    const hook = await webhook(`http://127.0.0.1:${await closedPort()}/gone`);
    const delivery = await ping(hook.id);
    const refused = await deliveryWhen(hook.id, delivery.id, (d) => d.attempts >= 1);
    expect(refused).toMatchObject({ status: 'pending', lastStatusCode: null, lastError: 'connection refused' });
    expectData(await client(t, org.users.admin).patch(`/api/v1/webhooks/${hook.id}`, { url: `${receiver.url}/back` }));
    const [arrived] = await receiver.waitFor(1, { filter: at('/back'), timeoutMs: 15_000 });
    expect(arrived.headers['webhook-id']).toBe(delivery.eventId);
    expect(await deliveryWhen(hook.id, delivery.id, (d) => d.status !== 'pending')).toMatchObject({
      status: 'succeeded',
      lastStatusCode: 204,
    });
  });

  it('deactivated while a retry waits: nothing more is sent, the delivery is failed ("webhook inactive")', async () => {
    answers['/paused'] = () => ({ status: 503 });
    const hook = await webhook(`${receiver.url}/paused`);
    const delivery = await ping(hook.id);
    await deliveryWhen(hook.id, delivery.id, (d) => d.attempts === 1);
    expectData(await client(t, org.users.admin).patch(`/api/v1/webhooks/${hook.id}`, { active: false }));
    const settled = await deliveryWhen(hook.id, delivery.id, (d) => d.status !== 'pending');
    expect(settled).toMatchObject({
      status: 'failed',
      attempts: 1,
      lastError: 'webhook inactive',
      nextAttemptAt: null,
    });
    await sleep(1500);
    expect(receiver.received.filter(at('/paused'))).toHaveLength(1);
  });

  it('deleted while a retry waits: nothing more is sent, its deliveries went with it', async () => {
    answers['/deleted'] = () => ({ status: 500 });
    const hook = await webhook(`${receiver.url}/deleted`);
    const delivery = await ping(hook.id);
    await deliveryWhen(hook.id, delivery.id, (d) => d.attempts === 1);
    expectNoContent(await client(t, org.users.admin).delete(`/api/v1/webhooks/${hook.id}`));
    await sleep(2000);
    expect(receiver.received.filter(at('/deleted'))).toHaveLength(1);
    const rows = await t.dataSource.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE id = $1', [
      delivery.id,
    ]);
    expect(rows[0].n).toBe(0);
  });

  it('/metrics: deliveries by outcome, and a gauge of webhooks that keep failing', async () => {
    const metric = async (name: string): Promise<number> => {
      const text = (await t.http().get('/metrics').expect(200)).text;
      const line = text.split('\n').find((l) => l.startsWith(name));
      return line ? Number(line.split(' ').pop()) : NaN;
    };
    expect(await metric('webhook_deliveries_total{outcome="succeeded"}')).toBeGreaterThanOrEqual(3);
    expect(await metric('webhook_deliveries_total{outcome="retrying"}')).toBeGreaterThanOrEqual(4);
    expect(await metric('webhook_deliveries_total{outcome="failed"}')).toBeGreaterThanOrEqual(1);
    const before = await metric('webhooks_failing');
    const hook = await webhook(`http://127.0.0.1:${await closedPort()}/down`);
    const delivery = await ping(hook.id);
    // Three failed attempts in a row (after 1 s and 4 s) make it failing.
    await deliveryWhen(hook.id, delivery.id, (d) => d.attempts >= 3, 15_000);
    expect(await metric('webhooks_failing')).toBe(before + 1);
    expectData(await client(t, org.users.admin).patch(`/api/v1/webhooks/${hook.id}`, { active: false }));
    expect(await metric('webhooks_failing')).toBe(before);
  }, 30_000);
});

describe('webhook delivery with two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    a = await createTestApp({ env: ENV });
    b = await createTestApp({ env: ENV, databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await receiver?.stop();
  });

  it('each event is delivered once, whichever instance recorded it and whichever works the job', async () => {
    const org = await createRoleOrg(a, 'Twin Org');
    const hook = expectData<{ id: string; secret: string }>(
      await client(a, org.users.admin).post(`/api/v1/orgs/${org.orgId}/webhooks`, {
        url: `${receiver.url}/twins`,
        events: ['task.created'],
      }),
      201,
    );
    const projectId = expectData<{ id: string }>(
      await client(a, org.users.admin).post(`/api/v1/orgs/${org.orgId}/projects`, { key: 'TWIN', name: 'Twins' }),
      201,
    ).id;
    const created: string[] = [];
    for (let i = 0; i < 12; i++) {
      const app = i % 2 === 0 ? a : b;
      const res = await client(app, org.users.member).post(`/api/v1/projects/${projectId}/tasks`, { title: `T${i}` });
      created.push(expectData<{ id: string }>(res, 201).id);
    }
    const hooks = await receiver.waitFor(12, { filter: (h) => h.path === '/twins', timeoutMs: 15_000 });
    await sleep(1500);
    const all = receiver.received.filter((h) => h.path === '/twins');
    expect(all).toHaveLength(12);
    const events = hooks.map((h) => verified<{ id: string; data: { id: string } }>(h, hook.secret));
    expect(new Set(events.map((e) => e.id)).size).toBe(12);
    expect(events.map((e) => e.data.id).sort()).toEqual([...created].sort());
    const log = expectItems<DeliveryBody>(
      await client(b, org.users.admin).get(`/api/v1/webhooks/${hook.id}/deliveries?limit=100`),
    );
    expect(log).toHaveLength(12);
    for (const d of log) expect(d).toMatchObject({ status: 'succeeded', attempts: 1 });
  }, 40_000);
});
