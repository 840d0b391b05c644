import {
  DEMO_API_KEY_NAME,
  DEMO_COLLEAGUE,
  DEMO_INVITEE,
  DEMO_USER,
  DEMO_WEBHOOK,
} from '../src/demo/demo-data.service';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, login } from './support/users';

describe('demo data (SEED_DEMO=true / npm run seed:demo)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { SEED_DEMO: 'true' }, captureLogs: true });
  });
  afterAll(() => t.close());

  it('lets the demo user sign in and find an org with projects, tasks and comments', async () => {
    const { accessToken } = await login(t, DEMO_USER.email, DEMO_USER.password);
    const orgs = await t.http().get('/api/v1/orgs').set(bearer(accessToken)).expect(200);
    expect(orgs.body.data).toHaveLength(1);
    const orgId = orgs.body.data[0].id;
    const projects = await t.http().get(`/api/v1/orgs/${orgId}/projects`).set(bearer(accessToken)).expect(200);
    expect(projects.body.data.map((p: { key: string }) => p.key).sort()).toEqual(['API', 'WEB']);
    const tasks = await t.http().get(`/api/v1/orgs/${orgId}/tasks?limit=100`).set(bearer(accessToken)).expect(200);
    expect(tasks.body.data).toHaveLength(6);
    const members = await t.http().get(`/api/v1/orgs/${orgId}/members`).set(bearer(accessToken)).expect(200);
    expect(members.body.data.map((m: { user: { email: string } }) => m.user.email).sort()).toEqual(
      [DEMO_COLLEAGUE.email, DEMO_USER.email].sort(),
    );
    const invitations = await t.http().get(`/api/v1/orgs/${orgId}/invitations`).set(bearer(accessToken)).expect(200);
    expect(invitations.body.data).toEqual([
      expect.objectContaining({ email: DEMO_INVITEE, role: 'viewer', status: 'pending' }),
    ]);
    const audit = await t.http().get(`/api/v1/orgs/${orgId}/audit-events?action=task.created`).set(bearer(accessToken));
    expect(audit.body.data).toHaveLength(6);
    const rateLimit = tasks.body.data.find((task: { title: string }) => task.title === 'Rate-limit sign-in');
    const comments = await t.http().get(`/api/v1/tasks/${rateLimit.id}/comments`).set(bearer(accessToken)).expect(200);
    // Both written within a millisecond or two: compare as a set.
    expect(comments.body.data.map((c: { body: string }) => c.body).sort()).toEqual([
      'Should the per-account limit count per IP too?',
      'Yes, so that nobody can lock someone else out.',
    ]);
  });

  it('prints the demo API key once, at seed time; it works as a member of the demo org', async () => {
    const printed = t.logs.map((line) => String(line.msg)).filter((msg) => /tl_[0-9a-f]{12}_/.test(msg));
    expect(printed).toHaveLength(1);
    const token = /(tl_[0-9a-f]{12}_[A-Za-z0-9_-]{43})/.exec(printed[0])![1];
    const orgs = await t.http().get('/api/v1/orgs').set(bearer(token)).expect(200);
    expect(orgs.body.data.map((o: { name: string }) => o.name)).toEqual(['Demo Company']);
    const { accessToken } = await login(t, DEMO_USER.email, DEMO_USER.password);
    const keys = await t
      .http()
      .get(`/api/v1/orgs/${orgs.body.data[0].id}/api-keys`)
      .set(bearer(accessToken))
      .expect(200);
    expect(keys.body.data).toEqual([
      expect.objectContaining({ name: DEMO_API_KEY_NAME, role: 'member', revokedAt: null }),
    ]);
    expect(JSON.stringify(keys.body)).not.toContain(token);
  });

  it('has exactly one webhook in the demo org: the seeded one, inactive, so that it calls nobody', async () => {
    const { accessToken } = await login(t, DEMO_USER.email, DEMO_USER.password);
    const orgs = await t.http().get('/api/v1/orgs').set(bearer(accessToken)).expect(200);
    const orgId = orgs.body.data[0].id;
    const webhooks = await t.http().get(`/api/v1/orgs/${orgId}/webhooks`).set(bearer(accessToken)).expect(200);
    expect(webhooks.body.data).toEqual([
      {
        id: expect.any(String),
        orgId,
        url: 'https://hooks.example.com/tasklane',
        events: ['task.created', 'task.updated', 'comment.created'],
        description: DEMO_WEBHOOK.description,
        active: false,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
        version: 1,
      },
    ]);
    expect(webhooks.body.data[0]).toMatchObject(DEMO_WEBHOOK);
    // Inactive: the seed's own task and comment events were never queued for it.
    const deliveries = await t
      .http()
      .get(`/api/v1/webhooks/${webhooks.body.data[0].id}/deliveries`)
      .set(bearer(accessToken))
      .expect(200);
    expect(deliveries.body.data).toEqual([]);
  });

  it('does not seed twice when another instance starts with SEED_DEMO', async () => {
    const second = await createTestApp({ env: { SEED_DEMO: 'true' }, databaseUrl: t.databaseUrl });
    await second.close();
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM users WHERE email = $1`, [
      DEMO_USER.email,
    ]);
    expect(count).toBe(1);
    const [{ orgs }] = await t.dataSource.query(`SELECT count(*)::int AS orgs FROM orgs`);
    expect(orgs).toBe(1);
  });
});
