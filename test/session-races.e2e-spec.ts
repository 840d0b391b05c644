import type { Response } from 'supertest';
import { expectNoContent, expectUnauthenticated } from './support/envelope';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, createAdmin, login, registerUser, SignedInUser } from './support/users';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// A sign-in racing a change of the credentials it relies on. Sign-ins wait for the one argon2
// slot (PASSWORD_HASH_CONCURRENCY=1), each having read the user before its turn comes, so that
// those that arrive while the change runs verify the old password, or hold the old role, after
// the change has committed. Whatever the interleaving, no session may outlive a password change,
// role change or deletion: every token obtained before, during or after it is dead or carries
// what is true now.

/** Never more sign-ins than this in one race. */
const MAX_SIGN_INS = 200;

interface Attempt {
  res: Response;
}

describe('sessions racing credential changes', () => {
  let t: TestApp;
  /** How long one sign-in takes here (argon2id dominates): the pace of the races. */
  let signInMs: number;

  beforeAll(async () => {
    t = await createTestApp({ env: { PASSWORD_HASH_CONCURRENCY: '1' } });
    const user = await registerUser(t);
    const took: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await login(t, user.email, user.password);
      took.push(performance.now() - started);
    }
    signInMs = took.sort((a, b) => a - b)[1];
  });
  afterAll(() => t.close());

  /**
   * Sign-ins sent faster than the hashing slot serves them (so they queue), until the
   * change has settled and ten more have been sent; `during` starts once `answeredBefore` of them
   * have been answered. So some sessions exist before the change, some sign-ins read the user
   * before it commits and finish after, and some start after it: every side of the race is run,
   * whatever this machine's speed.
   */
  async function signInsAround(
    send: () => Promise<Response>,
    answeredBefore: number,
    during: () => Promise<unknown>,
  ): Promise<Attempt[]> {
    const attempts: Promise<Attempt>[] = [];
    let answered = 0;
    let changed: Promise<unknown> | undefined;
    let settled = false;
    let afterwards = 0;
    while (attempts.length < MAX_SIGN_INS && afterwards < 10) {
      attempts.push(
        send().then((res) => {
          if (++answered === answeredBefore) changed = during().finally(() => (settled = true));
          return { res };
        }),
      );
      if (settled) afterwards++;
      await sleep(signInMs * 0.4);
    }
    expect(settled).toBe(true);
    await changed;
    return Promise.all(attempts);
  }

  const loginsAround = (
    user: { email: string; password: string },
    answeredBefore: number,
    during: () => Promise<unknown>,
  ) =>
    signInsAround(
      () => t.http().post('/api/v1/auth/login').send({ email: user.email, password: user.password }),
      answeredBefore,
      during,
    );

  const refresh = (refreshToken: string) => t.http().post('/api/v1/auth/refresh').send({ refreshToken });

  it('logins with the old password around a password change: every session they got is dead', async () => {
    const user = await registerUser(t);
    const changer = await login(t, user.email, user.password);
    const attempts = await loginsAround(user, 5, async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/password')
        .set(bearer(changer.accessToken))
        .send({ currentPassword: user.password, newPassword: 'a brand new password' });
      expectNoContent(res);
    });
    const granted = attempts.filter((a) => a.res.status === 200);
    const refused = attempts.filter((a) => a.res.status === 401);
    expect(granted.length + refused.length).toBe(attempts.length);
    // The race was run: some logins were granted before the change, the rest verified the old
    // password after it had committed and were refused.
    expect(granted.length).toBeGreaterThanOrEqual(5);
    expect(refused.length).toBeGreaterThan(0);
    for (const { res } of granted) {
      expectUnauthenticated(await refresh(res.body.data.refreshToken));
      expectUnauthenticated(await t.http().get('/api/v1/orgs').set(bearer(res.body.data.accessToken)));
    }
    // The new password works.
    await login(t, user.email, 'a brand new password');
  }, 60_000);

  it('logins around a demotion: no token still says admin where it counts', async () => {
    const admin = await createAdmin(t);
    const other = await createAdmin(t);
    const attempts = await loginsAround(admin, 5, async () => {
      const res = await t
        .http()
        .patch(`/api/v1/users/${admin.id}`)
        .set(bearer(other.accessToken))
        .send({ role: 'user' });
      expect(res.status).toBe(200);
    });
    const granted = attempts.filter((a) => a.res.status === 200);
    expect(granted.length).toBe(attempts.length);
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
    const attempts = await loginsAround(user, 5, async () => {
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
    const attempts = (
      await signInsAround(
        () =>
          t
            .http()
            .post('/api/v1/auth/token')
            .type('form')
            .send({ grant_type: 'password', username: user.email, password: user.password }),
        5,
        async () =>
          expectNoContent(
            await t
              .http()
              .post('/api/v1/auth/password')
              .set(bearer(changer.accessToken))
              .send({ currentPassword: user.password, newPassword: 'a third new password' }),
          ),
      )
    ).map((attempt) => attempt.res);
    const granted = attempts.filter((res) => res.status === 200);
    expect(granted.length).toBeGreaterThanOrEqual(5);
    expect(attempts.some((res) => res.status === 400 && res.body.error === 'invalid_grant')).toBe(true);
    for (const res of granted) {
      expectUnauthenticated(await refresh(res.body.refresh_token));
      expectUnauthenticated(await t.http().get('/api/v1/orgs').set(bearer(res.body.access_token)));
    }
  }, 60_000);
});
