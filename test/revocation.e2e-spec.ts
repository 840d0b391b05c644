import { createTestApp, TestApp } from './support/test-app';
import { bearer, createAdmin, login, registerUser } from './support/users';

/**
 * Two instances of one deployment (A and B) on one database: a session revoked on A must stop
 * working on B within a second, although B checks access tokens without a database query.
 */

const BUDGET_MS = 1000;
const POLL_EVERY_MS = 10;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function me(app: TestApp, accessToken: string): Promise<{ status: number; message?: string }> {
  const res = await app.http().get('/api/v1/auth/me').set(bearer(accessToken));
  if (res.status === 401) {
    expect(res.body.error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
  }
  return { status: res.status, message: res.body?.error?.message };
}

async function meStatus(app: TestApp, accessToken: string): Promise<number> {
  return (await me(app, accessToken)).status;
}

async function expectAccepted(app: TestApp, accessToken: string): Promise<void> {
  expect(await meStatus(app, accessToken)).toBe(200);
}

/**
 * Polls `app` with the token from `since` until it is rejected because its session is revoked
 * (the message says so: other 401s, such as "account no longer exists", do not count); returns
 * the milliseconds that took. Keeps polling a while past the budget so that a failure says how
 * late it was.
 */
async function msUntilRejected(app: TestApp, accessToken: string, since: number): Promise<number> {
  const giveUpAt = since + 3 * BUDGET_MS;
  for (;;) {
    const { status, message } = await me(app, accessToken);
    if (status === 401 && /revoked/i.test(message ?? '')) return Date.now() - since;
    expect([200, 401]).toContain(status);
    if (Date.now() > giveUpAt) return Infinity;
    await sleep(POLL_EVERY_MS);
  }
}

describe('session revocation across instances', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp();
    b = await createTestApp({ databaseUrl: a.databaseUrl });
  });
  afterAll(async () => {
    // The second first: only the first drops the database.
    await b?.close();
    await a?.close();
  });

  it('runs two instances on one database', async () => {
    expect(b.databaseUrl).toBe(a.databaseUrl);
    expect(b.server).not.toBe(a.server);
    const user = await registerUser(a);
    await expectAccepted(b, user.accessToken);
    // A refresh token from A works on B.
    await b.http().post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
  });

  it('logout on A: the access token is rejected on B within a second; other sessions keep working', async () => {
    const user = await registerUser(a);
    const other = await login(b, user.email, user.password);
    await expectAccepted(b, user.accessToken);

    await a.http().post('/api/v1/auth/logout').send({ refreshToken: user.refreshToken }).expect(204);
    const since = Date.now();

    expect(await meStatus(a, user.accessToken)).toBe(401);
    expect(await msUntilRejected(b, user.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
    await expectAccepted(b, other.accessToken);
    await expectAccepted(a, other.accessToken);
  });

  it('logout on B: the access token is rejected on A within a second', async () => {
    const user = await registerUser(b);
    await expectAccepted(a, user.accessToken);

    await b.http().post('/api/v1/auth/logout').send({ refreshToken: user.refreshToken }).expect(204);
    const since = Date.now();

    expect(await msUntilRejected(a, user.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
  });

  it('password change on A: every session of the user is rejected on B within a second', async () => {
    const user = await registerUser(a);
    const other = await login(b, user.email, user.password);
    const bystander = await registerUser(a);
    await expectAccepted(b, user.accessToken);
    await expectAccepted(b, other.accessToken);

    await a
      .http()
      .post('/api/v1/auth/password')
      .set(bearer(user.accessToken))
      .send({ currentPassword: user.password, newPassword: 'a-brand-new-password' })
      .expect(204);
    const since = Date.now();

    expect(await msUntilRejected(b, user.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
    expect(await msUntilRejected(b, other.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
    await expectAccepted(b, bystander.accessToken);
    // The new password signs in on either instance.
    await expectAccepted(b, (await login(b, user.email, 'a-brand-new-password')).accessToken);
  });

  it('role change by an admin on A (PATCH /users/{id}): the user’s old token is rejected on B within a second', async () => {
    const admin = await createAdmin(a);
    const user = await registerUser(a);
    await expectAccepted(b, user.accessToken);

    const res = await a
      .http()
      .patch(`/api/v1/users/${user.id}`)
      .set(bearer(admin.accessToken))
      .send({ role: 'admin' })
      .expect(200);
    const since = Date.now();
    expect(res.body.data).toMatchObject({ id: user.id, role: 'admin' });

    expect(await msUntilRejected(b, user.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
    // The admin who made the change is not affected.
    await expectAccepted(b, admin.accessToken);
    // Signing in again gives a token with the new role.
    const fresh = await login(b, user.email, user.password);
    const me = await b.http().get('/api/v1/auth/me').set(bearer(fresh.accessToken)).expect(200);
    expect(me.body.data.role).toBe('admin');
  });

  it('an admin PATCH that leaves the role as it is ends no session', async () => {
    const admin = await createAdmin(a);
    const user = await registerUser(a);

    await a
      .http()
      .patch(`/api/v1/users/${user.id}`)
      .set(bearer(admin.accessToken))
      .send({ role: 'user', name: 'Renamed' })
      .expect(200);

    await sleep(200); // long enough for a notification to have arrived, were there one
    await expectAccepted(b, user.accessToken);
    await expectAccepted(a, user.accessToken);
  });

  it('account deletion on A: the token is rejected on B within a second', async () => {
    const user = await registerUser(a);
    await expectAccepted(b, user.accessToken);

    await a.http().delete(`/api/v1/users/${user.id}`).set(bearer(user.accessToken)).expect(204);
    const since = Date.now();

    expect(await msUntilRejected(b, user.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
  });

  it('refresh-token reuse detected on A: the family’s access tokens are rejected on B within a second', async () => {
    const user = await registerUser(a);
    const next = await a.http().post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(200);
    const accessToken: string = next.body.data.accessToken;
    await expectAccepted(b, accessToken);

    await a.http().post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }).expect(401);
    const since = Date.now();

    expect(await msUntilRejected(b, accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
  });

  it('an instance started after a revocation knows of it from the start', async () => {
    const user = await registerUser(a);
    await a.http().post('/api/v1/auth/logout').send({ refreshToken: user.refreshToken }).expect(204);

    const c = await createTestApp({ databaseUrl: a.databaseUrl });
    try {
      expect(await meStatus(c, user.accessToken)).toBe(401);
      const alive = await registerUser(a);
      await expectAccepted(c, alive.accessToken);
    } finally {
      await c.close();
    }
  });
});
