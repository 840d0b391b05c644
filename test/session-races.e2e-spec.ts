import type { Response } from 'supertest';
import { expectNoContent, expectUnauthenticated } from './support/envelope';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, createAdmin, login, registerUser, SignedInUser } from './support/users';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A sign-in racing a change of the credentials it relies on. Logins wait for the one argon2
// slot (PASSWORD_HASH_CONCURRENCY=1), each having read the user before its turn comes, so that
// many of them verify the old password, or read the old role, after the change has committed.
// Whatever the interleaving, no session may outlive a password change, role change or deletion:
// every token obtained before, during or after it is dead or carries what is true now.

const LOGINS = 80;

interface Attempt {
  res: Response;
}

describe('sessions racing credential changes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { PASSWORD_HASH_CONCURRENCY: '1' } });
  });
  afterAll(() => t.close());

  /**
   * `count` logins, one every 5 ms (faster than the hashing slot serves them, so they queue);
   * `during` starts with the `after`-th. Logins keep arriving while the change runs, and read the
   * user before it commits but verify, and start their session, after.
   */
  async function loginsAround(
    user: { email: string; password: string },
    count: number,
    after: number,
    during: () => Promise<void>,
  ): Promise<Attempt[]> {
    let changed: Promise<void> | undefined;
    const attempts = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        await sleep(i * 5);
        if (i === after) changed = during();
        const res = await t.http().post('/api/v1/auth/login').send({ email: user.email, password: user.password });
        return { res };
      }),
    );
    await changed;
    return attempts;
  }

  const refresh = (refreshToken: string) => t.http().post('/api/v1/auth/refresh').send({ refreshToken });

  it(`${LOGINS} logins with the old password around a password change: every session they got is dead`, async () => {
    const user = await registerUser(t);
    const changer = await login(t, user.email, user.password);
    const attempts = await loginsAround(user, LOGINS, 10, async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/password')
        .set(bearer(changer.accessToken))
        .send({ currentPassword: user.password, newPassword: 'a brand new password' });
      expectNoContent(res);
    });
    const granted = attempts.filter((a) => a.res.status === 200);
    const refused = attempts.filter((a) => a.res.status === 401);
    expect(granted.length + refused.length).toBe(LOGINS);
    // The race was run: some logins were granted before the change, the rest verified the old
    // password after it had committed and were refused.
    expect(granted.length).toBeGreaterThanOrEqual(10);
    expect(refused.length).toBeGreaterThan(0);
    for (const { res } of granted) {
      expectUnauthenticated(await refresh(res.body.data.refreshToken));
      expectUnauthenticated(await t.http().get('/api/v1/orgs').set(bearer(res.body.data.accessToken)));
    }
    // The new password works.
    await login(t, user.email, 'a brand new password');
  }, 60_000);

  it('60 logins around a demotion: no token still says admin where it counts', async () => {
    const admin = await createAdmin(t);
    const other = await createAdmin(t);
    const attempts = await loginsAround(admin, 60, 10, async () => {
      const res = await t
        .http()
        .patch(`/api/v1/users/${admin.id}`)
        .set(bearer(other.accessToken))
        .send({ role: 'user' });
      expect(res.status).toBe(200);
    });
    const granted = attempts.filter((a) => a.res.status === 200);
    expect(granted.length).toBe(60);
    const outcomes = new Map<number, number>();
    for (const { res } of granted) {
      const list = await t.http().get('/api/v1/users').set(bearer(res.body.data.accessToken));
      // Revoked (401) if signed in before the demotion, a plain user (403) after: never 200.
      expect([401, 403]).toContain(list.status);
      outcomes.set(list.status, (outcomes.get(list.status) ?? 0) + 1);
      if (list.status === 403) expect(res.body.data.user.role).toBe('user');
    }
    // Both sides of the race happened.
    expect(outcomes.get(401)).toBeGreaterThan(0);
    expect(outcomes.get(403)).toBeGreaterThan(0);
  }, 60_000);

  it('logins around an account deletion: every session they got is dead', async () => {
    const user = await registerUser(t);
    const own = await login(t, user.email, user.password);
    const attempts = await loginsAround(user, 40, 10, async () => {
      expectNoContent(await t.http().delete(`/api/v1/users/${user.id}`).set(bearer(own.accessToken)));
    });
    const granted = attempts.filter((a) => a.res.status === 200);
    expect(granted.length).toBeGreaterThan(0);
    expect(attempts.length - granted.length).toBeGreaterThan(0);
    for (const { res } of granted) {
      expectUnauthenticated(await refresh(res.body.data.refreshToken));
      expectUnauthenticated(await t.http().get('/api/v1/orgs').set(bearer(res.body.data.accessToken)));
    }
  }, 60_000);

  it('refreshes racing a password change: none of the tokens they issued keeps working', async () => {
    const user: SignedInUser = await registerUser(t);
    const sessions = await Promise.all(Array.from({ length: 20 }, () => login(t, user.email, user.password)));
    const [refreshed] = await Promise.all([
      Promise.all(sessions.map((s) => refresh(s.refreshToken))),
      t
        .http()
        .post('/api/v1/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: user.password, newPassword: 'another new password' })
        .expect(204),
    ]);
    for (const res of refreshed.filter((r) => r.status === 200)) {
      expectUnauthenticated(await refresh(res.body.data.refreshToken));
      expectUnauthenticated(await t.http().get('/api/v1/orgs').set(bearer(res.body.data.accessToken)));
    }
  }, 60_000);

  it('the OAuth2 token endpoint starts sessions the same way', async () => {
    const user = await registerUser(t);
    const changer = await login(t, user.email, user.password);
    let changed: Promise<unknown> | undefined;
    const attempts = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await sleep(i * 5);
        if (i === 5) {
          changed = t
            .http()
            .post('/api/v1/auth/password')
            .set(bearer(changer.accessToken))
            .send({ currentPassword: user.password, newPassword: 'a third new password' })
            .then((res) => expectNoContent(res));
        }
        return t
          .http()
          .post('/api/v1/auth/token')
          .type('form')
          .send({ grant_type: 'password', username: user.email, password: user.password });
      }),
    );
    await changed;
    const granted = attempts.filter((res) => res.status === 200);
    expect(granted.length).toBeGreaterThanOrEqual(5);
    expect(attempts.some((res) => res.status === 400 && res.body.error === 'invalid_grant')).toBe(true);
    for (const res of granted) {
      expectUnauthenticated(await refresh(res.body.refresh_token));
      expectUnauthenticated(await t.http().get('/api/v1/orgs').set(bearer(res.body.access_token)));
    }
  }, 60_000);
});
