import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { Response } from 'supertest';
import { SessionActivity } from '../src/sessions/session-activity';
import {
  expectData,
  expectError,
  expectList,
  expectNoContent,
  expectUnauthenticated,
  expectValidationFailed,
  ISO_UTC,
  UUID,
} from './support/envelope';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser, uniqueEmail } from './support/users';

// Contract §20: the signed-in user's own sessions. Two instances (A and B) share one database,
// both behind one trusted proxy (TRUST_PROXY=1), so that X-Forwarded-For sets the address the
// app sees, as a load balancer would.

interface Session {
  id: string;
  createdAt: string;
  lastUsedAt: string;
  userAgent: string | null;
  ip: string | null;
  current: boolean;
}

interface SignedIn {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

const SESSION_KEYS = ['createdAt', 'current', 'id', 'ip', 'lastUsedAt', 'userAgent'];
const BUDGET_MS = 1000;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const sidOf = (accessToken: string): string =>
  JSON.parse(Buffer.from(accessToken.split('.')[1], 'base64url').toString('utf8')).sid;

describe('sessions (contract §20)', () => {
  let a: TestApp;
  let b: TestApp;

  beforeAll(async () => {
    a = await createTestApp({ env: { TRUST_PROXY: '1' } });
    b = await createTestApp({ databaseUrl: a.databaseUrl, env: { TRUST_PROXY: '1' } });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  /** Signs in through POST /auth/login from this user agent and address. */
  async function signIn(
    user: Pick<SignedInUser, 'email' | 'password'>,
    userAgent: string,
    ip: string,
    app = a,
  ): Promise<SignedIn> {
    const res = await app
      .http()
      .post('/api/v1/auth/login')
      .set('User-Agent', userAgent)
      .set('X-Forwarded-For', ip)
      .send({ email: user.email, password: user.password });
    const data = expectData<{ accessToken: string; refreshToken: string }>(res);
    return { accessToken: data.accessToken, refreshToken: data.refreshToken, sessionId: sidOf(data.accessToken) };
  }

  async function newUser(): Promise<SignedInUser & { sessionId: string }> {
    const user = await registerUser(a);
    return { ...user, sessionId: sidOf(user.accessToken) };
  }

  async function list(accessToken: string, app = a): Promise<Session[]> {
    const { data, page } = expectList<Session>(
      await app.http().get('/api/v1/auth/sessions').query({ limit: 100 }).set(bearer(accessToken)),
    );
    expect(page.nextCursor).toBeNull();
    for (const session of data) expect(Object.keys(session).sort()).toEqual(SESSION_KEYS);
    return data;
  }

  async function listed(accessToken: string, sessionId: string, app = a): Promise<Session | undefined> {
    return (await list(accessToken, app)).find((s) => s.id === sessionId);
  }

  const remove = (accessToken: string | undefined, sessionId: string, app = a): Promise<Response> => {
    const req = app.http().delete(`/api/v1/auth/sessions/${sessionId}`);
    return accessToken ? req.set(bearer(accessToken)) : req;
  };
  const logoutAll = (accessToken: string | undefined, app = a): Promise<Response> => {
    const req = app.http().post('/api/v1/auth/logout-all');
    return accessToken ? req.set(bearer(accessToken)) : req;
  };
  const meStatus = async (accessToken: string, app = a): Promise<number> =>
    (await app.http().get('/api/v1/auth/me').set(bearer(accessToken))).status;
  const refresh = (refreshToken: string, app = a): Promise<Response> =>
    app.http().post('/api/v1/auth/refresh').send({ refreshToken });

  async function row(sessionId: string): Promise<{
    user_agent: string | null;
    ip: string | null;
    last_used_at: Date | null;
    revoked_reason: string | null;
  }> {
    const [found] = await a.dataSource.query(
      'SELECT user_agent, ip, last_used_at, revoked_reason FROM session_families WHERE id = $1',
      [sessionId],
    );
    return found;
  }

  /** Polls until the access token is refused as revoked; the milliseconds that took (Infinity past 3 s). */
  async function msUntilRevoked(app: TestApp, accessToken: string, since: number): Promise<number> {
    for (;;) {
      const res = await app.http().get('/api/v1/auth/me').set(bearer(accessToken));
      if (res.status === 401 && /revoked/i.test(res.body.error?.message ?? '')) return Date.now() - since;
      expect(res.status).toBe(200);
      if (Date.now() - since > 3 * BUDGET_MS) return Infinity;
      await sleep(10);
    }
  }

  describe('GET /api/v1/auth/sessions', () => {
    it('lists every sign-in with its user agent and address, newest first; current only on the caller’s', async () => {
      const res = await a
        .http()
        .post('/api/v1/auth/register')
        .set('User-Agent', 'RegisterAgent/1.0')
        .set('X-Forwarded-For', '198.51.100.1')
        .send({ email: uniqueEmail(), password: 'password-123', name: 'Sessions' });
      const registered = expectData<{ accessToken: string; user: { id: string; email: string } }>(res, 201);
      const user = { email: registered.user.email, password: 'password-123' };
      const first = sidOf(registered.accessToken);
      const laptop = await signIn(user, 'Laptop/2.0 (X11; Linux)', '203.0.113.7');
      // The OAuth2 token endpoint's password grant (Swagger UI's Authorize dialog) starts one too.
      const oauth = await a
        .http()
        .post('/api/v1/auth/token')
        .type('form')
        .set('User-Agent', 'SwaggerUI/5')
        .set('X-Forwarded-For', '2001:db8::42')
        .send({ grant_type: 'password', username: user.email, password: user.password })
        .expect(200);
      const swagger = sidOf(oauth.body.access_token);
      const stranger = await newUser();

      const seenByLaptop = await list(laptop.accessToken);
      expect(seenByLaptop.map((s) => s.id)).toEqual([swagger, laptop.sessionId, first]);
      expect(seenByLaptop.map(({ userAgent, ip, current }) => ({ userAgent, ip, current }))).toEqual([
        { userAgent: 'SwaggerUI/5', ip: '2001:db8::42', current: false },
        { userAgent: 'Laptop/2.0 (X11; Linux)', ip: '203.0.113.7', current: true },
        { userAgent: 'RegisterAgent/1.0', ip: '198.51.100.1', current: false },
      ]);
      for (const session of seenByLaptop) {
        expect(session.id).toMatch(UUID);
        expect(session.createdAt).toMatch(ISO_UTC);
        expect(session.lastUsedAt).toMatch(ISO_UTC);
        expect(Date.parse(session.lastUsedAt)).toBeGreaterThanOrEqual(Date.parse(session.createdAt));
      }
      expect(Date.parse(seenByLaptop[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(seenByLaptop[1].createdAt));

      const seenBySwagger = await list(oauth.body.access_token);
      expect(seenBySwagger.filter((s) => s.current).map((s) => s.id)).toEqual([swagger]);
      // Nobody else's sessions.
      expect((await list(stranger.accessToken)).map((s) => s.id)).toEqual([stranger.sessionId]);
    });

    it('keeps at most 512 characters of the user agent; no header is null', async () => {
      const user = await newUser();
      const long = await signIn(user, `Agent/${'x'.repeat(600)}`, '203.0.113.9');
      const res = await a
        .http()
        .post('/api/v1/auth/login')
        .unset('User-Agent')
        .send({ email: user.email, password: user.password });
      const none = sidOf(expectData<{ accessToken: string }>(res).accessToken);

      const sessions = await list(long.accessToken);
      const stored = sessions.find((s) => s.id === long.sessionId)!;
      expect(stored.userAgent).toBe(`Agent/${'x'.repeat(600)}`.slice(0, 512));
      expect(sessions.find((s) => s.id === none)!.userAgent).toBeNull();
    });

    it('keeps printable ASCII of the user agent (a tab a space, other runs one "?"), and an address only if it is one', async () => {
      const user = await newUser();
      // Node sends (and the server reads) header characters as Latin-1 bytes: \u00c3\u00a9 is UTF-8 é.
      const odd = await signIn(user, 'Mozilla/5.0 Caf\u00c3\u00a9\tApp\u00ff\u0080/1.0 \u00e9', '203.0.113.40');
      // TRUST_PROXY=1 trusts one proxy: the test client, here forging what a proxy would append.
      const forged = await signIn(user, 'Forged/1.0', '<b>not-an-address</b>');
      const sessions = await list(odd.accessToken);
      expect(sessions.find((s) => s.id === odd.sessionId)).toMatchObject({
        userAgent: 'Mozilla/5.0 Caf? App?/1.0 ?',
        ip: '203.0.113.40',
      });
      expect(await row(odd.sessionId)).toMatchObject({ user_agent: 'Mozilla/5.0 Caf? App?/1.0 ?' });
      expect(sessions.find((s) => s.id === forged.sessionId)).toMatchObject({ userAgent: 'Forged/1.0', ip: null });

      // Other control characters never reach the app: Node's parser answers 400 itself.
      const { port } = a.server.address() as AddressInfo;
      const body = JSON.stringify({ email: user.email, password: user.password });
      const raw = Buffer.concat([
        Buffer.from(
          `POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nUser-Agent: Agent`,
          'latin1',
        ),
        Buffer.from([0x01, 0x1b]),
        Buffer.from(`/1.0\r\n\r\n${body}`, 'latin1'),
      ]);
      const response = await new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(raw));
        let received = '';
        socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
        socket.on('close', () => resolve(received));
        socket.on('error', reject);
      });
      expect(response.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect((await list(odd.accessToken)).length).toBe(sessions.length);
    });

    it('a refresh keeps the sign-in’s user agent and address and moves lastUsedAt', async () => {
      const user = await newUser();
      const phone = await signIn(user, 'Phone/1.0', '203.0.113.20');
      const signedInAt = (await row(phone.sessionId)).last_used_at!;
      expect(signedInAt).toBeInstanceOf(Date);
      await sleep(20);

      const res = await a
        .http()
        .post('/api/v1/auth/refresh')
        .set('User-Agent', 'SomethingElse/9')
        .set('X-Forwarded-For', '192.0.2.99')
        .send({ refreshToken: phone.refreshToken });
      const next = expectData<{ accessToken: string }>(res);
      expect(sidOf(next.accessToken)).toBe(phone.sessionId);

      const after = await row(phone.sessionId);
      expect(after).toMatchObject({ user_agent: 'Phone/1.0', ip: '203.0.113.20', revoked_reason: null });
      expect(after.last_used_at!.getTime()).toBeGreaterThan(signedInAt.getTime());
      // Seen from another session of the user (whose own use does not touch this one).
      const seen = await listed(user.accessToken, phone.sessionId);
      expect(seen).toMatchObject({ userAgent: 'Phone/1.0', ip: '203.0.113.20', current: false });
      expect(Date.parse(seen!.lastUsedAt)).toBe(after.last_used_at!.getTime());
    });

    it('access-token use shows at once on this instance, reaches the database at the next flush, never per request', async () => {
      const user = await newUser();
      const tablet = await signIn(user, 'Tablet/1.0', '203.0.113.30');
      const activity = a.app.get(SessionActivity);
      await activity.flush();
      const signedInAt = (await row(tablet.sessionId)).last_used_at!.getTime();
      await sleep(20);

      const before = Date.now();
      expect(await meStatus(tablet.accessToken)).toBe(200);
      const after = Date.now();

      // No write for the request itself...
      expect((await row(tablet.sessionId)).last_used_at!.getTime()).toBe(signedInAt);
      // ...but instance A, which saw it, lists it;
      const onA = Date.parse((await listed(user.accessToken, tablet.sessionId))!.lastUsedAt);
      expect(onA).toBeGreaterThanOrEqual(before);
      expect(onA).toBeLessThanOrEqual(after);
      // instance B has not heard of it yet.
      expect(Date.parse((await listed(user.accessToken, tablet.sessionId, b))!.lastUsedAt)).toBe(signedInAt);

      await activity.flush();
      expect((await row(tablet.sessionId)).last_used_at!.getTime()).toBe(onA);
      expect(Date.parse((await listed(user.accessToken, tablet.sessionId, b))!.lastUsedAt)).toBe(onA);
    });

    it('a flush never moves lastUsedAt backwards', async () => {
      const user = await newUser();
      const later = new Date(Date.now() + 60_000);
      await a.dataSource.query('UPDATE session_families SET last_used_at = $2 WHERE id = $1', [user.sessionId, later]);
      expect(await meStatus(user.accessToken)).toBe(200);
      await a.app.get(SessionActivity).flush();
      expect((await row(user.sessionId)).last_used_at!.getTime()).toBe(later.getTime());
    });

    it('an instance writes the uses it noted when it shuts down', async () => {
      const user = await newUser();
      await a.app.get(SessionActivity).flush();
      const signedInAt = (await row(user.sessionId)).last_used_at!.getTime();
      const c = await createTestApp({ databaseUrl: a.databaseUrl });
      try {
        await sleep(20);
        expect(await meStatus(user.accessToken, c)).toBe(200);
        expect((await row(user.sessionId)).last_used_at!.getTime()).toBe(signedInAt);
      } finally {
        await c.close();
      }
      expect((await row(user.sessionId)).last_used_at!.getTime()).toBeGreaterThan(signedInAt);
    });

    it('leaves out revoked sessions and sessions whose refresh token has expired; a rotated one stays', async () => {
      const user = await newUser();
      const loggedOut = await signIn(user, 'Old/1', '203.0.113.40');
      const expired = await signIn(user, 'Old/2', '203.0.113.41');
      const rotated = await signIn(user, 'Old/3', '203.0.113.42');
      await a.http().post('/api/v1/auth/logout').send({ refreshToken: loggedOut.refreshToken }).expect(204);
      await a.dataSource.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE family_id = $1`,
        [expired.sessionId],
      );
      expect((await refresh(rotated.refreshToken)).status).toBe(200);

      expect((await list(user.accessToken)).map((s) => s.id)).toEqual([rotated.sessionId, user.sessionId]);
      // An expired session is over: it cannot be ended again either.
      expectError(await remove(user.accessToken, expired.sessionId), 404, 'NOT_FOUND');
    });

    it('pages with limit and cursor, newest first; a cursor of another user’s list is refused', async () => {
      const user = await newUser();
      const more = [await signIn(user, 'Second/1.0', '203.0.113.21'), await signIn(user, 'Third/1.0', '203.0.113.22')];
      const get = (query: Record<string, string | number>, token = user.accessToken) =>
        a.http().get('/api/v1/auth/sessions').query(query).set(bearer(token));
      const first = expectList<Session>(await get({ limit: 2 }));
      expect(first.data.map((s) => s.id)).toEqual([more[1].sessionId, more[0].sessionId]);
      expect(first.page).toEqual({ limit: 2, nextCursor: expect.any(String) });
      const second = expectList<Session>(await get({ limit: 2, cursor: first.page.nextCursor! }));
      expect(second.data.map((s) => s.id)).toEqual([user.sessionId]);
      expect(second.page.nextCursor).toBeNull();
      const other = await newUser();
      expectError(await get({ limit: 2, cursor: first.page.nextCursor! }, other.accessToken), 400, 'INVALID_CURSOR');
      expectValidationFailed(await get({ limit: 0 }), ['limit']);
    });

    it('needs an access token', async () => {
      expectUnauthenticated(await a.http().get('/api/v1/auth/sessions'));
    });
  });

  describe('DELETE /api/v1/auth/sessions/{sessionId}', () => {
    it('ends another session of yours: its access and refresh tokens stop working, the others do not', async () => {
      const user = await newUser();
      const ended = await signIn(user, 'Ended/1', '203.0.113.50');
      const kept = await signIn(user, 'Kept/1', '203.0.113.51');

      expectNoContent(await remove(user.accessToken, ended.sessionId));

      expectUnauthenticated(await a.http().get('/api/v1/auth/me').set(bearer(ended.accessToken)));
      expectUnauthenticated(await refresh(ended.refreshToken));
      expect(await meStatus(user.accessToken)).toBe(200);
      expect(await meStatus(kept.accessToken)).toBe(200);
      expect((await refresh(kept.refreshToken)).status).toBe(200);
      expect((await list(user.accessToken)).map((s) => s.id)).toEqual([kept.sessionId, user.sessionId]);
      expect((await row(ended.sessionId)).revoked_reason).toBe('session_revoked');
      // Ended is ended: a second DELETE finds nothing.
      expectError(await remove(user.accessToken, ended.sessionId), 404, 'NOT_FOUND');
    });

    it('ends the current session too: its own access token is refused at once', async () => {
      const user = await newUser();
      const other = await signIn(user, 'Other/1', '203.0.113.60');

      expectNoContent(await remove(user.accessToken, user.sessionId.toUpperCase()));

      expectUnauthenticated(await a.http().get('/api/v1/auth/me').set(bearer(user.accessToken)));
      expectUnauthenticated(await refresh(user.refreshToken));
      expect((await list(other.accessToken)).map((s) => s.id)).toEqual([other.sessionId]);
    });

    it('another user’s session is a 404 and keeps working; unknown is a 404; malformed a 400; no token a 401', async () => {
      const user = await newUser();
      const victim = await newUser();

      expectError(await remove(user.accessToken, victim.sessionId), 404, 'NOT_FOUND');
      expect(await meStatus(victim.accessToken)).toBe(200);
      expect((await refresh(victim.refreshToken)).status).toBe(200);
      expect((await row(victim.sessionId)).revoked_reason).toBeNull();

      expectError(await remove(user.accessToken, '00000000-0000-4000-8000-000000000000'), 404, 'NOT_FOUND');
      expectValidationFailed(await remove(user.accessToken, 'not-a-uuid'), ['sessionId']);
      expectUnauthenticated(await remove(undefined, user.sessionId));
      // None of it ended the caller's session.
      expect(await meStatus(user.accessToken)).toBe(200);
    });

    it('reaches the other instance within a second', async () => {
      const user = await newUser();
      const elsewhere = await signIn(user, 'Elsewhere/1', '203.0.113.70', b);
      expect(await meStatus(elsewhere.accessToken, b)).toBe(200);

      expectNoContent(await remove(user.accessToken, elsewhere.sessionId));
      const since = Date.now();

      expect(await msUntilRevoked(b, elsewhere.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
      expect(await meStatus(user.accessToken, b)).toBe(200);
    });
  });

  describe('POST /api/v1/auth/logout-all', () => {
    it('ends every session of the caller, this one included; other users are unaffected', async () => {
      const user = await newUser();
      const second = await signIn(user, 'Second/1', '203.0.113.80');
      const third = await signIn(user, 'Third/1', '203.0.113.81');
      const bystander = await newUser();

      expectNoContent(await logoutAll(second.accessToken));

      for (const session of [user, second, third]) {
        expectUnauthenticated(await a.http().get('/api/v1/auth/me').set(bearer(session.accessToken)));
        expectUnauthenticated(await refresh(session.refreshToken));
        expect((await row(sidOf(session.accessToken))).revoked_reason).toBe('logout_all');
      }
      expect(await meStatus(bystander.accessToken)).toBe(200);
      expect((await list(bystander.accessToken)).map((s) => s.id)).toEqual([bystander.sessionId]);
      // Signing in again starts afresh.
      const fresh = await signIn(user, 'Fresh/1', '203.0.113.82');
      expect((await list(fresh.accessToken)).map((s) => s.id)).toEqual([fresh.sessionId]);
    });

    it('reaches the other instance within a second', async () => {
      const user = await newUser();
      const elsewhere = await signIn(user, 'Elsewhere/2', '203.0.113.90', b);

      expectNoContent(await logoutAll(elsewhere.accessToken, b));
      const since = Date.now();

      expect(await msUntilRevoked(a, user.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
      expect(await msUntilRevoked(a, elsewhere.accessToken, since)).toBeLessThanOrEqual(BUDGET_MS);
    });

    it('needs an access token', async () => {
      expectUnauthenticated(await logoutAll(undefined));
    });
  });
});
