import type { Response } from 'supertest';
import {
  etag,
  expectData,
  expectError,
  expectItems,
  expectList,
  expectNoContent,
  expectUnauthenticated,
  expectValidationFailed,
  ISO_UTC,
  UUID,
} from './support/envelope';
import { auditEvents, client, createProjectTask, createRoleOrg, RoleOrg } from './support/pt-helpers';
import { refuseAtCommit } from './support/commit-failure';
import { createTestApp, createTestDatabase, productionEnv, TestApp } from './support/test-app';
import { bearer, SignedInUser } from './support/users';
import { ReceivedHook, sleep, verified, WebhookReceiver } from './support/webhook-receiver';

const WEBHOOK_KEYS = ['active', 'createdAt', 'description', 'events', 'id', 'orgId', 'updatedAt', 'url', 'version'];
const DELIVERY_KEYS = [
  'attempts',
  'createdAt',
  'eventId',
  'eventType',
  'id',
  'lastError',
  'lastStatusCode',
  'nextAttemptAt',
  'status',
  'updatedAt',
];

interface WebhookBody {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  description: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
  secret?: string;
}
interface DeliveryBody {
  id: string;
  eventId: string;
  eventType: string;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: string | null;
}
interface EventBody {
  id: string;
  type: string;
  createdAt: string;
  orgId: string;
  actor: { type: string; id: string };
  data: Record<string, unknown>;
}

const webhooksUrl = (orgId: string): string => `/api/v1/orgs/${orgId}/webhooks`;
const webhookUrl = (id: string): string => `/api/v1/webhooks/${id}`;
const deliveriesUrl = (id: string): string => `/api/v1/webhooks/${id}/deliveries`;

export const WEBHOOK_TEST_ENV = { JOB_POLL_INTERVAL_MS: '500', WEBHOOK_RETRY_DELAY_SECONDS: '1' };

describe('webhooks (§19)', () => {
  let t: TestApp;
  let org: RoleOrg;
  let receiver: WebhookReceiver;
  let projectId: string;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await createTestApp({ env: WEBHOOK_TEST_ENV });
    org = await createRoleOrg(t, 'Hook Org');
    ({ projectId } = await createProjectTask(t, org.users.admin, org.orgId));
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });
  beforeEach(() => receiver.answerWith(() => ({ status: 204 })));

  async function createWebhook(
    body: Partial<WebhookBody> = {},
    by: SignedInUser = org.users.admin,
    orgId = org.orgId,
  ): Promise<WebhookBody & { secret: string }> {
    const res = await client(t, by).post(webhooksUrl(orgId), { url: `${receiver.url}/hooks`, events: ['*'], ...body });
    return expectData<WebhookBody & { secret: string }>(res, 201);
  }

  /** A new task in the org's project, made by the member: its id. */
  const newTask = async (): Promise<string> =>
    expectData<{ id: string }>(
      await client(t, org.users.member).post(`/api/v1/projects/${projectId}/tasks`, { title: 'Hooked task' }),
      201,
    ).id;

  const deliveryCount = async (): Promise<number> =>
    Number((await t.dataSource.query('SELECT count(*) AS n FROM webhook_deliveries'))[0].n);

  /** The requests for this webhook (its path) that carry events of this type. */
  const hooksAt = (path: string, type?: string) => (hook: ReceivedHook) =>
    hook.path === path && (type === undefined || (JSON.parse(hook.body) as EventBody).type === type);

  // -------------------------------------------------------------------------------------------
  describe('create, read, list, change, delete', () => {
    it('POST: 201 with Location, ETag, the webhook and its secret (once); active unless created inactive', async () => {
      const res = await client(t, org.users.admin).post(webhooksUrl(org.orgId), {
        url: `${receiver.url}/created`,
        events: ['task.created', 'comment.created'],
        description: 'Our tracker',
      });
      const webhook = expectData<WebhookBody>(res, 201);
      expect(Object.keys(webhook).sort()).toEqual([...WEBHOOK_KEYS, 'secret'].sort());
      expect(webhook).toMatchObject({
        id: expect.stringMatching(UUID),
        orgId: org.orgId,
        url: `${receiver.url}/created`,
        events: ['task.created', 'comment.created'],
        description: 'Our tracker',
        active: true,
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
        version: 1,
      });
      expect(webhook.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(res.headers.location).toBe(webhookUrl(webhook.id));
      expect(res.headers.etag).toBe(etag(1));
      expect(res.headers['cache-control']).toBe('no-store');

      const read = await client(t, org.users.admin).get(res.headers.location as string);
      const got = expectData<WebhookBody>(read);
      expect(Object.keys(got).sort()).toEqual(WEBHOOK_KEYS);
      const { secret, ...shown } = webhook;
      expect(got).toEqual(shown);
      expect(JSON.stringify(read.body)).not.toContain(secret!);
      expect(read.headers.etag).toBe(etag(1));

      // The secret is stored sealed, not as given.
      const [row] = await t.dataSource.query('SELECT secret_sealed FROM webhooks WHERE id = $1', [webhook.id]);
      expect(row.secret_sealed).not.toContain(webhook.secret!.slice(6));

      const inactive = await createWebhook({ active: false });
      expect(inactive).toMatchObject({ active: false, description: '', events: ['*'] });
    });

    it('GET list: newest first, paged with limit and cursor, only this org', async () => {
      const other = await createRoleOrg(t, 'Other Hook Org');
      await createWebhook({}, other.users.owner, other.orgId);
      const mine = [await createWebhook(), await createWebhook(), await createWebhook()];
      const first = expectList<WebhookBody>(await client(t, org.users.admin).get(`${webhooksUrl(org.orgId)}?limit=2`));
      expect(first.data.map((w) => w.id)).toEqual([mine[2].id, mine[1].id]);
      expect(first.page).toEqual({ limit: 2, nextCursor: expect.any(String) });
      for (const item of first.data) expect(Object.keys(item).sort()).toEqual(WEBHOOK_KEYS);
      const second = expectList<WebhookBody>(
        await client(t, org.users.admin).get(
          `${webhooksUrl(org.orgId)}?limit=2&cursor=${encodeURIComponent(first.page.nextCursor!)}`,
        ),
      );
      expect(second.data[0].id).toBe(mine[0].id);
      const all = expectItems<WebhookBody>(await client(t, org.users.admin).get(`${webhooksUrl(org.orgId)}?limit=100`));
      expect(all.every((w) => w.orgId === org.orgId)).toBe(true);
      expectError(
        await client(t, org.users.admin).get(`${webhooksUrl(org.orgId)}?cursor=not-a-cursor`),
        400,
        'INVALID_CURSOR',
      );
      expectValidationFailed(await client(t, org.users.admin).get(`${webhooksUrl(org.orgId)}?limit=0`), ['limit']);
    });

    it('PATCH: any subset; version and ETag move on; If-Match stale → 412 and nothing changes', async () => {
      const webhook = await createWebhook();
      const as = client(t, org.users.admin);
      const changed = expectData<WebhookBody>(
        await as.patch(webhookUrl(webhook.id), { events: ['task.updated'], description: 'Only updates' }),
      );
      expect(changed).toMatchObject({
        events: ['task.updated'],
        description: 'Only updates',
        active: true,
        version: 2,
      });
      const off = await t
        .http()
        .patch(webhookUrl(webhook.id))
        .set(bearer(org.users.admin.accessToken))
        .set('If-Match', etag(2))
        .send({ active: false });
      expect(expectData<WebhookBody>(off)).toMatchObject({ active: false, version: 3 });
      expect(off.headers.etag).toBe(etag(3));
      const stale = await t
        .http()
        .patch(webhookUrl(webhook.id))
        .set(bearer(org.users.admin.accessToken))
        .set('If-Match', etag(2))
        .send({ active: true });
      expectError(stale, 412, 'PRECONDITION_FAILED');
      const same = expectData<WebhookBody>(await as.patch(webhookUrl(webhook.id), { active: false }));
      expect(same.version).toBe(3);
      const moved = expectData<WebhookBody>(await as.patch(webhookUrl(webhook.id), { url: `${receiver.url}/moved` }));
      expect(moved).toMatchObject({ url: `${receiver.url}/moved`, active: false, version: 4 });
      expect(expectData<WebhookBody>(await as.get(webhookUrl(webhook.id)))).toEqual(moved);
    });

    it('PATCH refuses null fields, unknown properties, a bad url or events', async () => {
      const webhook = await createWebhook();
      const as = client(t, org.users.admin);
      expectValidationFailed(await as.patch(webhookUrl(webhook.id), { active: null }), ['active']);
      expectValidationFailed(await as.patch(webhookUrl(webhook.id), { description: null }), ['description']);
      expectValidationFailed(await as.patch(webhookUrl(webhook.id), { secret: 'whsec_x' }), ['secret']);
      expectValidationFailed(await as.patch(webhookUrl(webhook.id), { url: 'ftp://example.com/' }), ['url']);
      expectValidationFailed(await as.patch(webhookUrl(webhook.id), { events: ['task.exploded'] }), ['events']);
      expect(expectData<WebhookBody>(await as.get(webhookUrl(webhook.id))).version).toBe(1);
    });

    it('DELETE: 204, then 404; a stale If-Match is a 412 and keeps it', async () => {
      const webhook = await createWebhook();
      const stale = await t
        .http()
        .delete(webhookUrl(webhook.id))
        .set(bearer(org.users.admin.accessToken))
        .set('If-Match', etag(7));
      expectError(stale, 412, 'PRECONDITION_FAILED');
      expectData(await client(t, org.users.admin).get(webhookUrl(webhook.id)));
      expectNoContent(await client(t, org.users.admin).delete(webhookUrl(webhook.id)));
      expectError(await client(t, org.users.admin).get(webhookUrl(webhook.id)), 404, 'NOT_FOUND');
      expectError(await client(t, org.users.admin).delete(webhookUrl(webhook.id)), 404, 'NOT_FOUND');
    });

    it('audits creating, changing and deleting a webhook (changed fields, never the secret)', async () => {
      const webhook = await createWebhook({ url: `${receiver.url}/audited`, events: ['task.created'] });
      expectData(
        await client(t, org.users.admin).patch(webhookUrl(webhook.id), { events: ['task.updated'], active: false }),
      );
      expectNoContent(await client(t, org.users.owner).delete(webhookUrl(webhook.id)));
      const events = await auditEvents(t, org.orgId, org.users.owner, { entityType: 'webhook', entityId: webhook.id });
      expect(events.map((e) => [e.action, e.actorType, e.actorId])).toEqual([
        ['webhook.deleted', 'user', org.users.owner.id],
        ['webhook.updated', 'user', org.users.admin.id],
        ['webhook.created', 'user', org.users.admin.id],
      ]);
      expect(events[2].changes).toEqual({
        url: [null, `${receiver.url}/audited`],
        events: [null, ['task.created']],
        description: [null, ''],
        active: [null, true],
      });
      expect(events[1].changes).toEqual({ events: [['task.created'], ['task.updated']], active: [true, false] });
      expect(events[0].changes).toMatchObject({ url: [`${receiver.url}/audited`, null], active: [false, null] });
      const rows: { text: string }[] = await t.dataSource.query(
        'SELECT row_to_json(e)::text AS text FROM audit_events e WHERE entity_id = $1',
        [webhook.id],
      );
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row.text).not.toContain(webhook.secret.slice(6));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('validation', () => {
    const create = (body: object): Promise<Response> => client(t, org.users.admin).post(webhooksUrl(org.orgId), body);
    const url = (): string => `${receiver.url}/v`;

    it.each([
      ['no url', () => ({ events: ['*'] }), ['url']],
      ['a url that is not one', () => ({ url: 'hooks', events: ['*'] }), ['url']],
      ['another scheme', () => ({ url: 'ftp://example.com/x', events: ['*'] }), ['url']],
      ['a file url', () => ({ url: 'file:///etc/passwd', events: ['*'] }), ['url']],
      ['credentials in the url', () => ({ url: 'http://user:secret@127.0.0.1/x', events: ['*'] }), ['url']],
      ['a url that is a number', () => ({ url: 42, events: ['*'] }), ['url']],
      ['a url over 2048 characters', () => ({ url: `http://127.0.0.1/${'a'.repeat(2048)}`, events: ['*'] }), ['url']],
      ['no events', () => ({ url: url() }), ['events']],
      ['empty events', () => ({ url: url(), events: [] }), ['events']],
      ['an unknown event type', () => ({ url: url(), events: ['task.created', 'task.exploded'] }), ['events']],
      ['ping (only sent by the ping route)', () => ({ url: url(), events: ['ping'] }), ['events']],
      ['* with other types', () => ({ url: url(), events: ['*', 'task.created'] }), ['events']],
      ['a type twice', () => ({ url: url(), events: ['task.created', 'task.created'] }), ['events']],
      ['events as a string', () => ({ url: url(), events: 'task.created' }), ['events']],
      ['a number among events', () => ({ url: url(), events: [1] }), ['events']],
      ['active as a string', () => ({ url: url(), events: ['*'], active: 'true' }), ['active']],
      [
        'a description over 500 characters',
        () => ({ url: url(), events: ['*'], description: 'x'.repeat(501) }),
        ['description'],
      ],
      ['an unknown property', () => ({ url: url(), events: ['*'], secret: 'whsec_mine' }), ['secret']],
    ])('%s: 400 naming the field, nothing created', async (_label, body, fields) => {
      const before = await t.dataSource.query('SELECT count(*)::int AS n FROM webhooks');
      const error = expectValidationFailed(await create(body()), fields);
      expect(JSON.stringify(error)).not.toMatch(/at \w+ \(|SELECT|INSERT/);
      expect(await t.dataSource.query('SELECT count(*)::int AS n FROM webhooks')).toEqual(before);
    });

    it('malformed JSON is a 400 MALFORMED_BODY', async () => {
      const res = await t
        .http()
        .post(webhooksUrl(org.orgId))
        .set(bearer(org.users.admin.accessToken))
        .set('Content-Type', 'application/json')
        .send('{"url": ');
      expectError(res, 400, 'MALFORMED_BODY');
    });

    it('path ids must be UUIDs: 400 naming the parameter', async () => {
      const as = client(t, org.users.admin);
      const webhook = await createWebhook();
      expectValidationFailed(await as.get('/api/v1/webhooks/not-a-uuid'), ['webhookId']);
      expectValidationFailed(await as.patch('/api/v1/webhooks/1', { active: false }), ['webhookId']);
      expectValidationFailed(await as.delete('/api/v1/webhooks/x'), ['webhookId']);
      expectValidationFailed(await as.get('/api/v1/webhooks/x/deliveries'), ['webhookId']);
      expectValidationFailed(await as.post('/api/v1/webhooks/x/ping', {}), ['webhookId']);
      expectValidationFailed(await as.post(`/api/v1/webhooks/${webhook.id}/deliveries/nope/redeliver`, {}), [
        'deliveryId',
      ]);
      expectValidationFailed(await as.get(`/api/v1/orgs/not-a-uuid/webhooks`), ['orgId']);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('who may', () => {
    let webhook: WebhookBody;
    let deliveryId: string;

    beforeAll(async () => {
      webhook = await createWebhook({ events: ['org.deleted'] });
      deliveryId = expectData<DeliveryBody>(
        await client(t, org.users.admin).post(`${webhookUrl(webhook.id)}/ping`, {}),
        202,
      ).id;
    });

    const routes: [string, (as: ReturnType<typeof client>) => Promise<Response>, number][] = [
      ['GET /orgs/{orgId}/webhooks', (as) => as.get(webhooksUrl(org.orgId)), 200],
      [
        'POST /orgs/{orgId}/webhooks',
        (as) => as.post(webhooksUrl(org.orgId), { url: `${receiver.url}/r`, events: ['org.deleted'] }),
        201,
      ],
      ['GET /webhooks/{id}', (as) => as.get(webhookUrl(webhook.id)), 200],
      ['PATCH /webhooks/{id}', (as) => as.patch(webhookUrl(webhook.id), { description: `d${Math.random()}` }), 200],
      ['GET /webhooks/{id}/deliveries', (as) => as.get(deliveriesUrl(webhook.id)), 200],
      ['POST …/redeliver', (as) => as.post(`${deliveriesUrl(webhook.id)}/${deliveryId}/redeliver`, {}), 202],
      ['POST …/ping', (as) => as.post(`${webhookUrl(webhook.id)}/ping`, {}), 202],
    ];

    it.each(routes)(
      '%s: owner and admin yes, member and viewer 403, outsider 404, no token 401',
      async (_label, call, ok) => {
        for (const role of ['owner', 'admin'] as const) {
          const res = await call(client(t, org.users[role]));
          expect({ role, status: res.status }).toEqual({ role, status: ok });
        }
        for (const role of ['member', 'viewer'] as const)
          expectError(await call(client(t, org.users[role])), 403, 'FORBIDDEN');
        expectError(await call(client(t, org.users.outsider)), 404, 'NOT_FOUND');
        expectUnauthenticated(await call(client(t, { ...org.users.admin, accessToken: 'nope' })));
      },
    );

    it('DELETE: member and viewer 403, outsider 404, admin 204', async () => {
      const doomed = await createWebhook();
      for (const role of ['member', 'viewer'] as const) {
        expectError(await client(t, org.users[role]).delete(webhookUrl(doomed.id)), 403, 'FORBIDDEN');
      }
      expectError(await client(t, org.users.outsider).delete(webhookUrl(doomed.id)), 404, 'NOT_FOUND');
      expectNoContent(await client(t, org.users.admin).delete(webhookUrl(doomed.id)));
    });

    it("another org's admin gets 404 for this org's webhooks and deliveries; a delivery of another webhook is a 404", async () => {
      const other = await createRoleOrg(t, 'Stranger Org');
      const as = client(t, other.users.owner);
      expectError(await as.get(webhookUrl(webhook.id)), 404, 'NOT_FOUND');
      expectError(await as.get(deliveriesUrl(webhook.id)), 404, 'NOT_FOUND');
      expectError(await as.post(`${webhookUrl(webhook.id)}/ping`, {}), 404, 'NOT_FOUND');
      expectError(await as.get(webhooksUrl(org.orgId)), 404, 'NOT_FOUND');
      const sibling = await createWebhook({ events: ['org.deleted'] });
      expectError(
        await client(t, org.users.admin).post(`${deliveriesUrl(sibling.id)}/${deliveryId}/redeliver`, {}),
        404,
        'NOT_FOUND',
      );
      expectError(
        await client(t, org.users.admin).post(`${deliveriesUrl(webhook.id)}/${sibling.id}/redeliver`, {}),
        404,
        'NOT_FOUND',
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('events, signed and delivered', () => {
    it('a task change reaches the subscribed webhooks, signed, with the task as the API returns it', async () => {
      const all = await createWebhook({ url: `${receiver.url}/all` });
      const tasksOnly = await createWebhook({ url: `${receiver.url}/tasks`, events: ['task.created', 'task.updated'] });
      const commentsOnly = await createWebhook({ url: `${receiver.url}/comments`, events: ['comment.created'] });
      const off = await createWebhook({ url: `${receiver.url}/off`, active: false });

      const taskId = await newTask();
      const [hook] = await receiver.waitFor(1, { filter: hooksAt('/tasks', 'task.created') });
      const event = verified<EventBody>(hook, tasksOnly.secret);
      const task = expectData(await client(t, org.users.member).get(`/api/v1/tasks/${taskId}`));
      expect(Object.keys(event).sort()).toEqual(['actor', 'createdAt', 'data', 'id', 'orgId', 'type']);
      expect(event).toEqual({
        id: hook.headers['webhook-id'],
        type: 'task.created',
        createdAt: expect.stringMatching(ISO_UTC),
        orgId: org.orgId,
        actor: { type: 'user', id: org.users.member.id },
        data: task,
      });
      expect(hook.method).toBe('POST');
      expect(hook.headers['content-type']).toBe('application/json');
      expect(hook.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
      expect(Math.abs(Number(hook.headers['webhook-timestamp']) - Date.now() / 1000)).toBeLessThan(30);
      // The event id is the audit event's.
      const [audited] = await auditEvents(t, org.orgId, org.users.admin, { action: 'task.created', entityId: taskId });
      expect(event.id).toBe(audited.id);
      expect(event.createdAt).toBe(audited.createdAt);
      // Signed with this webhook's secret, not another's.
      expect(() => verified(hook, all.secret)).toThrow();

      await receiver.waitFor(1, { filter: hooksAt('/all', 'task.created') });
      await sleep(500);
      expect(receiver.received.filter(hooksAt('/comments'))).toEqual([]);
      expect(receiver.received.filter(hooksAt('/off'))).toEqual([]);
      void off;
      void commentsOnly;
    });

    it('a deletion carries the last state; an update the new one', async () => {
      const webhook = await createWebhook({
        url: `${receiver.url}/lifecycle`,
        events: ['task.updated', 'task.deleted'],
      });
      const taskId = await newTask();
      const as = client(t, org.users.member);
      const updated = expectData(await as.patch(`/api/v1/tasks/${taskId}`, { title: 'Renamed' }));
      const [updateHook] = await receiver.waitFor(1, { filter: hooksAt('/lifecycle', 'task.updated') });
      expect(verified<EventBody>(updateHook, webhook.secret).data).toEqual(updated);
      expectNoContent(await as.delete(`/api/v1/tasks/${taskId}`));
      const [deleteHook] = await receiver.waitFor(1, { filter: hooksAt('/lifecycle', 'task.deleted') });
      expect(verified<EventBody>(deleteHook, webhook.secret).data).toEqual(updated);
    });

    it('membership, comment and project events carry their resources', async () => {
      const webhook = await createWebhook({
        url: `${receiver.url}/kinds`,
        events: ['comment.created', 'project.updated', 'membership.updated'],
      });
      const { projectId: hookedProject, taskId } = await createProjectTask(t, org.users.admin, org.orgId);
      const comment = expectData(
        await client(t, org.users.viewer).post(`/api/v1/tasks/${taskId}/comments`, { body: 'Hi' }),
        201,
      );
      const project = expectData(
        await client(t, org.users.admin).patch(`/api/v1/projects/${hookedProject}`, { name: 'Hooked' }),
      );
      const member = expectData(
        await client(t, org.users.owner).patch(`/api/v1/orgs/${org.orgId}/members/${org.users.viewer.id}`, {
          role: 'member',
        }),
      );
      await client(t, org.users.owner).patch(`/api/v1/orgs/${org.orgId}/members/${org.users.viewer.id}`, {
        role: 'viewer',
      });
      const hooks = await receiver.waitFor(4, { filter: hooksAt('/kinds') });
      const byType = (type: string) =>
        hooks.map((h) => verified<EventBody>(h, webhook.secret)).filter((e) => e.type === type);
      expect(byType('comment.created')[0].data).toEqual(comment);
      expect(byType('project.updated')[0].data).toEqual(project);
      expect(byType('membership.updated').map((e) => e.data)).toContainEqual(member);
    });

    it('a refused change sends nothing: a stale If-Match (412), a validation error (400), a 403', async () => {
      await createWebhook({ url: `${receiver.url}/refused`, events: ['task.updated'] });
      const taskId = await newTask();
      const before = await deliveryCount();
      const stale = await t
        .http()
        .patch(`/api/v1/tasks/${taskId}`)
        .set(bearer(org.users.member.accessToken))
        .set('If-Match', etag(99))
        .send({ title: 'Never' });
      expectError(stale, 412, 'PRECONDITION_FAILED');
      expectValidationFailed(await client(t, org.users.member).patch(`/api/v1/tasks/${taskId}`, { title: '' }), [
        'title',
      ]);
      expectError(
        await client(t, org.users.viewer).patch(`/api/v1/tasks/${taskId}`, { title: 'Nope' }),
        403,
        'FORBIDDEN',
      );
      expect(await deliveryCount()).toBe(before);
      // Then a change that commits: only it arrives.
      expectData(await client(t, org.users.member).patch(`/api/v1/tasks/${taskId}`, { title: 'Real' }));
      const hooks = await receiver.waitFor(1, { filter: hooksAt('/refused') });
      await sleep(500);
      expect(receiver.received.filter(hooksAt('/refused'))).toHaveLength(1);
      expect((JSON.parse(hooks[0].body) as EventBody).data.title).toBe('Real');
    });

    it('a change that rolls back at COMMIT (after its event was recorded) leaves no event and sends nothing', async () => {
      // A deferred check fails the task's transaction at COMMIT: after the audit record, and so
      // after the webhook event, its delivery and the delivery's job were written in it.
      const allowCommits = await refuseAtCommit(t.dataSource, 'tasks', 'title');
      try {
        const webhook = await createWebhook({ url: `${receiver.url}/rolledback`, events: ['task.created'] });
        const title = `rollback-${Date.now()}`;
        const eventsOf = async (text: string): Promise<number> =>
          (
            await t.dataSource.query('SELECT count(*)::int AS n FROM webhook_events WHERE payload LIKE $1', [
              `%${JSON.stringify(text)}%`,
            ])
          )[0].n;
        const deliveriesOfWebhook = async (): Promise<number> =>
          (
            await t.dataSource.query('SELECT count(*)::int AS n FROM webhook_deliveries WHERE webhook_id = $1', [
              webhook.id,
            ])
          )[0].n;

        expectError(
          await client(t, org.users.member).post(`/api/v1/projects/${projectId}/tasks`, { title }),
          500,
          'INTERNAL',
        );
        expect((await t.dataSource.query('SELECT count(*)::int AS n FROM tasks WHERE title = $1', [title]))[0].n).toBe(
          0,
        );
        expect(await eventsOf(title)).toBe(0);
        expect(await deliveriesOfWebhook()).toBe(0);

        // A change that commits afterwards is delivered: the wait below is long enough for one.
        const control = `control-${Date.now()}`;
        expectData(
          await client(t, org.users.member).post(`/api/v1/projects/${projectId}/tasks`, { title: control }),
          201,
        );
        const [hook] = await receiver.waitFor(1, { filter: hooksAt('/rolledback') });
        expect((JSON.parse(hook.body) as EventBody).data.title).toBe(control);
        await sleep(1000);
        expect(receiver.received.filter(hooksAt('/rolledback'))).toHaveLength(1);
        expect(receiver.received.filter((h) => h.body.includes(title))).toEqual([]);
        expect(await eventsOf(title)).toBe(0);
        expect(await eventsOf(control)).toBe(1);
        expect(await deliveriesOfWebhook()).toBe(1);
      } finally {
        await allowCommits();
      }
    });

    it('a webhook switched off receives nothing; switched back on (If-Match) it gets the next change', async () => {
      const webhook = await createWebhook({ url: `${receiver.url}/resumed`, events: ['task.created'] });
      // Always on: proves each change was delivered somewhere before we look for what did not arrive.
      await createWebhook({ url: `${receiver.url}/resumed-witness`, events: ['task.created'] });
      const patchActive = (active: boolean, version: number) =>
        t
          .http()
          .patch(webhookUrl(webhook.id))
          .set(bearer(org.users.admin.accessToken))
          .set('If-Match', etag(version))
          .send({ active });

      const off = await patchActive(false, 1);
      expect(expectData<WebhookBody>(off)).toMatchObject({ active: false, version: 2 });
      expect(off.headers.etag).toBe(etag(2));
      const whileOff = await newTask();
      await receiver.waitFor(1, { filter: hooksAt('/resumed-witness') });
      await sleep(1000);
      expect(receiver.received.filter(hooksAt('/resumed'))).toEqual([]);
      expect(expectItems<DeliveryBody>(await client(t, org.users.admin).get(deliveriesUrl(webhook.id)))).toEqual([]);

      expect(expectData<WebhookBody>(await patchActive(true, 2))).toMatchObject({ active: true, version: 3 });
      const afterOn = await newTask();
      const [hook] = await receiver.waitFor(1, { filter: hooksAt('/resumed') });
      expect(verified<EventBody>(hook, webhook.secret)).toMatchObject({ type: 'task.created', data: { id: afterOn } });
      await receiver.waitFor(2, { filter: hooksAt('/resumed-witness') });
      await sleep(500);
      // Only the change made while on: the one made while off is not sent late.
      const got = receiver.received.filter(hooksAt('/resumed')).map((h) => (JSON.parse(h.body) as EventBody).data.id);
      expect(got).toEqual([afterOn]);
      expect(got).not.toContain(whileOff);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('deliveries, ping and redeliver', () => {
    it('ping: 202 with the pending delivery; the receiver gets a signed ping with the webhook', async () => {
      const webhook = await createWebhook({ url: `${receiver.url}/ping`, events: ['org.deleted'] });
      const res = await client(t, org.users.admin).post(`${webhookUrl(webhook.id)}/ping`, {});
      const delivery = expectData<DeliveryBody>(res, 202);
      expect(Object.keys(delivery).sort()).toEqual(DELIVERY_KEYS);
      expect(delivery).toMatchObject({
        id: expect.stringMatching(UUID),
        eventId: expect.stringMatching(UUID),
        eventType: 'ping',
        status: 'pending',
        attempts: 0,
        lastStatusCode: null,
        lastError: null,
        nextAttemptAt: expect.stringMatching(ISO_UTC), // the first attempt is due at once
      });
      const [hook] = await receiver.waitFor(1, { filter: hooksAt('/ping') });
      const event = verified<EventBody>(hook, webhook.secret);
      const shown: Partial<typeof webhook> = { ...webhook };
      delete shown.secret;
      expect(event).toMatchObject({ id: delivery.eventId, type: 'ping', orgId: org.orgId, data: shown });
      expect(event.actor).toEqual({ type: 'user', id: org.users.admin.id });
    });

    it('the delivery log: newest first, every attempt recorded; redeliver sends the same bytes under the same id', async () => {
      const webhook = await createWebhook({ url: `${receiver.url}/log`, events: ['task.created'] });
      await newTask();
      await newTask();
      const hooks = await receiver.waitFor(2, { filter: hooksAt('/log') });
      let log: DeliveryBody[] = [];
      for (let i = 0; i < 40; i++) {
        log = expectItems<DeliveryBody>(await client(t, org.users.admin).get(deliveriesUrl(webhook.id)));
        if (log.every((d) => d.status === 'succeeded')) break;
        await sleep(100);
      }
      expect(log).toHaveLength(2);
      for (const d of log) {
        expect(Object.keys(d).sort()).toEqual(DELIVERY_KEYS);
        expect(d).toMatchObject({
          eventType: 'task.created',
          status: 'succeeded',
          attempts: 1,
          lastStatusCode: 204,
          lastError: null,
          nextAttemptAt: null,
        });
      }
      const page = expectList<DeliveryBody>(
        await client(t, org.users.admin).get(`${deliveriesUrl(webhook.id)}?limit=1`),
      );
      expect(page.data[0].id).toBe(log[0].id);
      expect(page.page.nextCursor).toEqual(expect.any(String));
      // Newest first: the second task's event is listed first.
      const second = hooks.find((h) => h.headers['webhook-id'] === log[0].eventId)!;
      expect(second.at).toBeGreaterThanOrEqual(hooks.find((h) => h.headers['webhook-id'] === log[1].eventId)!.at);

      const original = hooks.find((h) => h.headers['webhook-id'] === log[1].eventId)!;
      const res = await client(t, org.users.admin).post(`${deliveriesUrl(webhook.id)}/${log[1].id}/redeliver`, {});
      const again = expectData<DeliveryBody>(res, 202);
      expect(again).toMatchObject({
        eventId: log[1].eventId,
        eventType: 'task.created',
        status: 'pending',
        attempts: 0,
      });
      expect(again.id).not.toBe(log[1].id);
      const [redelivered] = await receiver.waitFor(1, {
        filter: (h) => h.path === '/log' && h !== original && h.headers['webhook-id'] === log[1].eventId,
      });
      expect(redelivered.body).toBe(original.body);
      expect(verified<EventBody>(redelivered, webhook.secret).id).toBe(log[1].eventId);
      const after = expectItems<DeliveryBody>(await client(t, org.users.admin).get(deliveriesUrl(webhook.id)));
      expect(after.map((d) => d.id)).toEqual([again.id, log[0].id, log[1].id]);
    });

    it('an inactive webhook: ping and redeliver are 409, and nothing is sent', async () => {
      const webhook = await createWebhook({ url: `${receiver.url}/sleepy`, events: ['org.deleted'] });
      const delivery = expectData<DeliveryBody>(
        await client(t, org.users.admin).post(`${webhookUrl(webhook.id)}/ping`, {}),
        202,
      );
      await receiver.waitFor(1, { filter: hooksAt('/sleepy') });
      expectData(await client(t, org.users.admin).patch(webhookUrl(webhook.id), { active: false }));
      expectError(await client(t, org.users.admin).post(`${webhookUrl(webhook.id)}/ping`, {}), 409, 'CONFLICT');
      expectError(
        await client(t, org.users.admin).post(`${deliveriesUrl(webhook.id)}/${delivery.id}/redeliver`, {}),
        409,
        'CONFLICT',
      );
      await sleep(300);
      expect(receiver.received.filter(hooksAt('/sleepy'))).toHaveLength(1);
    });

    it('a ping or redeliver with a body that is not JSON is a 415', async () => {
      const webhook = await createWebhook({ events: ['org.deleted'] });
      const res = await t
        .http()
        .post(`${webhookUrl(webhook.id)}/ping`)
        .set(bearer(org.users.admin.accessToken))
        .set('Content-Type', 'text/plain')
        .send('hello');
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });
  });
});

/**
 * A webhook accepted for a public address whose stored URL then points at the loopback receiver
 * (as if saved while allowed, or while its name resolved elsewhere) is pinged: its first attempt,
 * once recorded — never sent to the receiver.
 */
async function pingOnceMadePrivate(
  t: TestApp,
  org: RoleOrg,
  receiver: WebhookReceiver,
  created: Response,
  path: string,
): Promise<DeliveryBody> {
  const webhook = expectData<WebhookBody>(created, 201);
  await t.dataSource.query('UPDATE webhooks SET url = $2 WHERE id = $1', [
    webhook.id,
    `${receiver.url}${path}`.replace('http:', 'https:'),
  ]);
  const delivery = expectData<DeliveryBody>(
    await client(t, org.users.admin).post(`${webhookUrl(webhook.id)}/ping`, {}),
    202,
  );
  let log: DeliveryBody | undefined;
  for (let i = 0; i < 50 && !log?.attempts; i++) {
    await sleep(100);
    log = expectItems<DeliveryBody>(await client(t, org.users.admin).get(deliveriesUrl(webhook.id))).find(
      (d) => d.id === delivery.id,
    );
  }
  expect(log).toMatchObject({ attempts: 1, lastStatusCode: null });
  expect(receiver.received).toEqual([]);
  return log!;
}

// ---------------------------------------------------------------------------------------------
describe('webhook targets with WEBHOOK_ALLOW_PRIVATE_TARGETS=false (the production default)', () => {
  let t: TestApp;
  let org: RoleOrg;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    t = await createTestApp({ env: { ...WEBHOOK_TEST_ENV, WEBHOOK_ALLOW_PRIVATE_TARGETS: 'false' } });
    org = await createRoleOrg(t, 'Strict Org');
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  // org.deleted: no event of these tests is sent to the public address the accepted ones name
  // (tests reach only loopback); a ping is sent whatever the filter.
  const create = (url: string): Promise<Response> =>
    client(t, org.users.admin).post(webhooksUrl(org.orgId), { url, events: ['org.deleted'] });

  it.each([
    ['http, even to a public address', 'http://93.184.216.34/hook', 'url must be an https URL'],
    ['loopback', 'https://127.0.0.1/hook', 'target refused: private address'],
    ['loopback, another /8 address', 'https://127.8.9.10/', 'target refused: private address'],
    ['loopback as a decimal number', 'https://2130706433/', 'target refused: private address'],
    ['loopback in hex', 'https://0x7f.1/', 'target refused: private address'],
    ['loopback in octal', 'https://0177.0.0.1/', 'target refused: private address'],
    ['10/8', 'https://10.0.0.1/', 'target refused: private address'],
    ['172.16/12', 'https://172.20.1.1/', 'target refused: private address'],
    ['192.168/16', 'https://192.168.0.10/', 'target refused: private address'],
    ['CGNAT', 'https://100.100.100.100/', 'target refused: private address'],
    ['link-local (cloud metadata)', 'https://169.254.169.254/latest/meta-data/', 'target refused: private address'],
    ['0/8', 'https://0.0.0.0/', 'target refused: private address'],
    ['multicast', 'https://224.0.0.251/', 'target refused: private address'],
    ['broadcast', 'https://255.255.255.255/', 'target refused: private address'],
    ['benchmarking', 'https://198.18.0.1/', 'target refused: private address'],
    ['IPv6 loopback', 'https://[::1]/', 'target refused: private address'],
    ['IPv6 unspecified', 'https://[::]/', 'target refused: private address'],
    ['IPv6 unique local', 'https://[fd00::1]/', 'target refused: private address'],
    ['IPv6 link-local', 'https://[fe80::1]/', 'target refused: private address'],
    ['IPv6 multicast', 'https://[ff02::1]/', 'target refused: private address'],
    ['IPv4-mapped loopback', 'https://[::ffff:127.0.0.1]/', 'target refused: private address'],
    ['IPv4-mapped private, hex', 'https://[::ffff:c0a8:1]/', 'target refused: private address'],
    ['NAT64 of a private address', 'https://[64:ff9b::a00:1]/', 'target refused: private address'],
    ['6to4 of loopback', 'https://[2002:7f00:1::]/', 'target refused: private address'],
    ['a name resolving to loopback', 'https://localhost/hook', 'target refused: private address'],
    ['a name that does not resolve', 'https://nowhere.invalid/hook', 'url host does not resolve'],
    ['credentials', 'https://user:pass@93.184.216.34/', 'url must not contain credentials'],
  ])('%s: 400 naming url (%s)', async (_label, url, message) => {
    const error = expectValidationFailed(await create(url), ['url']);
    expect(error.details).toEqual([{ field: 'url', message }]);
  });

  it('a public https address is accepted (not contacted on creation)', async () => {
    const webhook = expectData<WebhookBody>(await create('https://93.184.216.34/hook'), 201);
    expect(webhook.url).toBe('https://93.184.216.34/hook');
    expectValidationFailed(
      await client(t, org.users.admin).patch(webhookUrl(webhook.id), { url: 'https://10.1.1.1/' }),
      ['url'],
    );
  });

  it('a PATCH with a URL tells nothing about it to someone who may not change the webhook (access before DNS)', async () => {
    const webhook = expectData<WebhookBody>(await create('https://93.184.216.34/hook'), 201);
    const probe = { url: 'https://localhost/hook' }; // a 400 "private address" for an admin
    expectError(await client(t, org.users.outsider).patch(webhookUrl(webhook.id), probe), 404, 'NOT_FOUND');
    expectError(
      await client(t, org.users.outsider).patch(webhookUrl('00000000-0000-4000-8000-000000000000'), probe),
      404,
      'NOT_FOUND',
    );
    expectError(await client(t, org.users.member).patch(webhookUrl(webhook.id), probe), 403, 'FORBIDDEN');
    expectValidationFailed(await client(t, org.users.admin).patch(webhookUrl(webhook.id), probe), ['url']);
  });

  it('checked again at delivery: a stored URL now private is not contacted; the attempt says why', async () => {
    const log = await pingOnceMadePrivate(t, org, receiver, await create('https://93.184.216.34/hook'), '/strict');
    expect(log).toMatchObject({ status: 'pending', lastError: 'target refused: private address' });
    expect(log.nextAttemptAt).toMatch(ISO_UTC);
  });
});

// ---------------------------------------------------------------------------------------------
describe('webhook targets in production (NODE_ENV=production, WEBHOOK_ALLOW_PRIVATE_TARGETS not set)', () => {
  let t: TestApp;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let org: RoleOrg;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await new WebhookReceiver().start();
    database = await createTestDatabase();
    // What production requires, and nothing about webhook targets: the default is the parsed one.
    t = await createTestApp({
      databaseUrl: database.url,
      env: productionEnv(database.url, { JOB_POLL_INTERVAL_MS: '500' }),
    });
    org = await createRoleOrg(t, 'Production Hook Org');
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
    await receiver?.stop();
  });

  // org.deleted: no event of these tests goes to the public address the accepted ones name.
  const create = (url: string): Promise<Response> =>
    client(t, org.users.admin).post(webhooksUrl(org.orgId), { url, events: ['org.deleted'] });
  const webhookCount = async (): Promise<number> =>
    (await t.dataSource.query('SELECT count(*)::int AS n FROM webhooks'))[0].n;

  it('runs in production with the flag unset (so false)', () => {
    expect(t.config.isProduction).toBe(true);
    expect(t.config.env.WEBHOOK_ALLOW_PRIVATE_TARGETS).toBe(false);
  });

  it.each([
    ['the local receiver (http, loopback)', () => `${receiver.url}/hooks`, 'url must be an https URL'],
    ['http to a public address', () => 'http://93.184.216.34/hook', 'url must be an https URL'],
    ['https to loopback', () => 'https://127.0.0.1/hook', 'target refused: private address'],
    ['https to 10/8', () => 'https://10.0.0.1/', 'target refused: private address'],
    ['https to cloud metadata', () => 'https://169.254.169.254/latest/meta-data/', 'target refused: private address'],
    ['https to IPv6 loopback', () => 'https://[::1]/', 'target refused: private address'],
    ['a name resolving to loopback', () => 'https://localhost/hook', 'target refused: private address'],
  ])('POST %s: 400 naming url, nothing created', async (_label, url, message) => {
    const before = await webhookCount();
    const error = expectValidationFailed(await create(url()), ['url']);
    expect(error.details).toEqual([{ field: 'url', message }]);
    expect(await webhookCount()).toBe(before);
  });

  it('a public https URL is accepted; a PATCH to a private one is refused', async () => {
    const webhook = expectData<WebhookBody>(await create('https://93.184.216.34/hook'), 201);
    const error = expectValidationFailed(
      await client(t, org.users.admin).patch(webhookUrl(webhook.id), { url: `${receiver.url}/patched` }),
      ['url'],
    );
    expect(error.details).toEqual([{ field: 'url', message: 'url must be an https URL' }]);
    expect(expectData<WebhookBody>(await client(t, org.users.admin).get(webhookUrl(webhook.id))).url).toBe(
      'https://93.184.216.34/hook',
    );
  });

  it('checked again at delivery: a stored loopback URL is not contacted', async () => {
    const log = await pingOnceMadePrivate(t, org, receiver, await create('https://93.184.216.34/hook'), '/prod');
    expect(log).toMatchObject({ lastError: 'target refused: private address' });
  });
});
