import { Client } from 'pg';
import { expectData, expectItems } from './support/envelope';
import { orgApi } from './support/orgs-helpers';
import { PrimaryWithReplica, replicaToolsAvailable, startPrimaryWithReplica } from './support/postgres-replica';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser } from './support/users';

// Read replicas (DATABASE_REPLICA_URLS, contract §21) against a real streaming standby made with
// pg_basebackup -R from a primary this file starts. Replay is paused to make the lag as long as a
// test needs: another reader then sees the replica's older state (so lists do come from the
// replica), while a writer always reads its own writes — on the instance it wrote through and on
// another one, which learns the writer's fence by NOTIFY.

const required = process.env.REQUIRE_REPLICA === '1';
const describeWithReplica = replicaToolsAvailable() || required ? describe : describe.skip;

const DATABASE = 'tasklane_replica_test';

function onDatabase(adminUrl: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${DATABASE}`;
  return url.toString();
}

async function metric(t: TestApp, name: string, labels = ''): Promise<number> {
  const text = (await t.http().get('/metrics').expect(200)).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : NaN;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describeWithReplica('read replicas: lists from a replica, and a client always reads its own writes', () => {
  let cluster: PrimaryWithReplica;
  let one: TestApp;
  let two: TestApp;
  let writer: SignedInUser;
  let reader: SignedInUser;
  let orgId: string;
  let projectId: string;

  const titles = async (t: TestApp, user: SignedInUser): Promise<string[]> =>
    expectItems<{ title: string }>(
      await t.http().get(`/api/v1/projects/${projectId}/tasks`).query({ limit: 100 }).set(bearer(user.accessToken)),
    ).map((task) => task.title);

  const projectIds = async (t: TestApp, user: SignedInUser): Promise<string[]> =>
    expectItems<{ id: string }>(await t.http().get(`/api/v1/orgs/${orgId}/projects`).set(bearer(user.accessToken))).map(
      (project) => project.id,
    );

  beforeAll(async () => {
    cluster = await startPrimaryWithReplica();
    const admin = new Client({ connectionString: cluster.primaryUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${DATABASE}`);
    await admin.end();
    const env = {
      DATABASE_URL: onDatabase(cluster.primaryUrl),
      DATABASE_REPLICA_URLS: onDatabase(cluster.replicaUrl),
    };
    one = await createTestApp({ databaseUrl: env.DATABASE_URL, env });
    two = await createTestApp({ databaseUrl: env.DATABASE_URL, env });
    for (const t of [one, two]) await eventually(async () => (await metric(t, 'db_replicas_serving')) === 1);

    writer = await registerUser(one);
    reader = await registerUser(one);
    const api = orgApi(one);
    orgId = (await api.createOrg(writer, { name: 'Replicated', slug: `replicated-${Date.now()}` })).id;
    await api.addMember(writer, orgId, reader.email, 'member');
    projectId = expectData<{ id: string }>(
      await one
        .http()
        .post(`/api/v1/orgs/${orgId}/projects`)
        .set(bearer(writer.accessToken))
        .send({ key: 'REP', name: 'R' }),
      201,
    ).id;
    // Everything so far is on the replica before the tests start.
    await eventually(async () => (await projectIds(two, reader)).includes(projectId));
  }, 120_000);

  afterAll(async () => {
    await cluster?.resumeReplay().catch(() => undefined);
    await one?.close();
    await two?.close();
    await cluster?.stop();
  });

  afterEach(() => cluster.resumeReplay());

  it('serves lists from the replica when the reader has not written', async () => {
    const before = await metric(two, 'db_lagging_reads_total', '{target="replica"}');
    expect(await projectIds(two, reader)).toEqual([projectId]);
    expect(await metric(two, 'db_lagging_reads_total', '{target="replica"}')).toBe(before + 1);
  });

  it('a writer reads its own write at once, on its instance and on another, while the replica lags', async () => {
    await cluster.pauseReplay();
    const created = await one
      .http()
      .post(`/api/v1/projects/${projectId}/tasks`)
      .set(bearer(writer.accessToken))
      .send({ title: 'written while the replica is paused' })
      .expect(201);
    expect(created.body.data.title).toBe('written while the replica is paused');

    // The writer, through the instance it wrote through and through the other one.
    expect(await titles(one, writer)).toContain('written while the replica is paused');
    expect(await titles(two, writer)).toContain('written while the replica is paused');

    // Another member, who wrote nothing, is served by the paused replica: it has not seen the task yet.
    expect(await titles(two, reader)).not.toContain('written while the replica is paused');

    await cluster.resumeReplay();
    await eventually(async () => (await titles(two, reader)).includes('written while the replica is paused'));
  });

  it('lists the writer’s comment and its audit event at once too, wherever it reads', async () => {
    await cluster.pauseReplay();
    const task = expectData<{ id: string }>(
      await two
        .http()
        .post(`/api/v1/projects/${projectId}/tasks`)
        .set(bearer(writer.accessToken))
        .send({ title: 'with a comment' }),
      201,
    );
    await one
      .http()
      .post(`/api/v1/tasks/${task.id}/comments`)
      .set(bearer(writer.accessToken))
      .send({ body: 'fresh' })
      .expect(201);
    const comments = expectItems<{ body: string }>(
      await two.http().get(`/api/v1/tasks/${task.id}/comments`).set(bearer(writer.accessToken)),
    );
    expect(comments.map((c) => c.body)).toEqual(['fresh']);
    const audit = expectItems<{ action: string; entityId: string }>(
      await one
        .http()
        .get(`/api/v1/orgs/${orgId}/audit-events`)
        .query({ entityId: task.id })
        .set(bearer(writer.accessToken)),
    );
    expect(audit.map((e) => e.action)).toContain('task.created');
    // The reader's view of that task's comments comes from the paused replica: none yet.
    const stale = await two.http().get(`/api/v1/tasks/${task.id}/comments`).set(bearer(reader.accessToken));
    // (the task itself is checked on the primary, so the reader may list; the replica has no comment)
    expect(expectItems(stale)).toEqual([]);
  });

  it('a write published on one instance while the other listens again is still respected (reconnect floor)', async () => {
    // Drop instance two's listening connections: until it listens again, nothing is served by a replica.
    const admin = new Client({ connectionString: cluster.primaryUrl });
    await admin.connect();
    await cluster.pauseReplay();
    try {
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tasklane-notifications' AND datname = $1`,
        [DATABASE],
      );
      await one
        .http()
        .post(`/api/v1/projects/${projectId}/tasks`)
        .set(bearer(writer.accessToken))
        .send({ title: 'while two was not listening' })
        .expect(201);
      // Whether two heard the fence or not, the writer sees the task there.
      expect(await titles(two, writer)).toContain('while two was not listening');
    } finally {
      await admin.end();
    }
  });

  it('a replica that does not answer serves nothing: lists come from the primary', async () => {
    const lonely = await createTestApp({
      databaseUrl: onDatabase(cluster.primaryUrl),
      env: {
        DATABASE_URL: onDatabase(cluster.primaryUrl),
        DATABASE_REPLICA_URLS: 'postgres://postgres@127.0.0.1:1/none',
      },
    });
    try {
      expect(await titles(lonely, reader)).toContain('written while the replica is paused');
      expect(await metric(lonely, 'db_replicas_serving')).toBe(0);
      expect(await metric(lonely, 'db_lagging_reads_total', '{target="primary"}')).toBeGreaterThan(0);
      expect(await metric(lonely, 'db_lagging_reads_total', '{target="replica"}')).toBe(0);
    } finally {
      await lonely.close();
    }
  });
});
