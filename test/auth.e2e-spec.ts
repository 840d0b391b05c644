import { createHash, createHmac } from 'node:crypto';
import type { Response } from 'supertest';
import { USER_KEYS } from './support/bodies';
import {
  expectData,
  expectError,
  expectNoContent,
  expectUnauthenticated,
  expectValidationFailed,
  JSON_UTF8,
  UUID,
} from './support/envelope';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';
import { bearer, login, registerUser, SignedInUser, uniqueEmail } from './support/users';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const TOKENS_KEYS = ['accessToken', 'expiresIn', 'refreshToken', 'user'];
const ACCESS_TTL_SECONDS = 15 * 60;

type Claims = Record<string, unknown>;

/** No property that looks like a password or its hash, and no argon2 string, at any depth. */
function expectNoSecrets(value: unknown, path = 'body'): void {
  if (typeof value === 'string') {
    expect({ path, value }).not.toEqual({ path, value: expect.stringMatching(/^\$argon2/) });
  } else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      expect(`${path}.${key}`).not.toMatch(/password|hash/i);
      expectNoSecrets(child, `${path}.${key}`);
    }
  }
}

const b64url = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function decodeSegment(token: string, index: 0 | 1): Claims {
  return JSON.parse(Buffer.from(token.split('.')[index], 'base64url').toString('utf8'));
}

const claimsOf = (token: string): Claims => decodeSegment(token, 1);

/** Builds a JWT by hand: any algorithm header, any claims, any secret. */
function signJwt(
  claims: Claims,
  options: { alg?: 'HS256' | 'HS384' | 'HS512' | 'none'; secret?: string } = {},
): string {
  const alg = options.alg ?? 'HS256';
  const signingInput = `${b64url({ alg, typ: 'JWT' })}.${b64url(claims)}`;
  if (alg === 'none') return `${signingInput}.`;
  const digest = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }[alg];
  const signature = createHmac(digest, options.secret ?? TEST_JWT_SECRET)
    .update(signingInput)
    .digest('base64url');
  return `${signingInput}.${signature}`;
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

const basicAuth = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

// ---------------------------------------------------------------------------------------------

describe('auth', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  const register = (body: object): Promise<Response> => t.http().post('/api/v1/auth/register').send(body);
  const me = (token: string): Promise<Response> => t.http().get('/api/v1/auth/me').set(bearer(token));
  const refresh = (refreshToken: string): Promise<Response> =>
    t.http().post('/api/v1/auth/refresh').send({ refreshToken });
  const logout = (refreshToken: string): Promise<Response> =>
    t.http().post('/api/v1/auth/logout').send({ refreshToken });
  const changePassword = (token: string, body: object): Promise<Response> =>
    t.http().post('/api/v1/auth/password').set(bearer(token)).send(body);
  const oauthToken = (form: Record<string, string>): Promise<Response> =>
    t.http().post('/api/v1/auth/token').type('form').send(form);

  /** The revocation reason of the session (refresh-token family) an access token belongs to. */
  async function sessionState(accessToken: string): Promise<{ revoked_reason: string | null }> {
    const [row] = await t.dataSource.query(`SELECT revoked_reason FROM session_families WHERE id = $1`, [
      claimsOf(accessToken).sid,
    ]);
    return row;
  }

  describe('POST /api/v1/auth/register', () => {
    it('creates the account, signs in and answers 201 with the user, the tokens and a Location', async () => {
      const local = `Ada.Lovelace-${Date.now()}`;
      const res = await register({
        email: `  ${local}@Example.COM `,
        password: 'password-123',
        name: '  Ada Lovelace  ',
      });

      const data = expectData(res, 201) as Record<string, Record<string, unknown>>;
      expect(Object.keys(data).sort()).toEqual(TOKENS_KEYS);
      const user = data.user;
      expect(Object.keys(user).sort()).toEqual(USER_KEYS);
      expect(user).toEqual({
        id: expect.stringMatching(UUID),
        email: `${local.toLowerCase()}@example.com`,
        name: 'Ada Lovelace',
        role: 'user',
        avatarUrl: null,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        version: 1,
      });
      expect(res.headers.location).toBe(`/api/v1/users/${user.id}`);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(data.expiresIn).toBe(ACCESS_TTL_SECONDS);
      expect(data.refreshToken).toEqual(expect.any(String));
      expectNoSecrets(res.body);

      // The access token: HS256, our issuer and audience, an access token of a new session.
      const accessToken = data.accessToken as unknown as string;
      expect(decodeSegment(accessToken, 0)).toEqual({ alg: 'HS256', typ: 'JWT' });
      const claims = claimsOf(accessToken);
      expect(claims).toMatchObject({
        sub: user.id,
        role: 'user',
        typ: 'access',
        iss: 'tasklane',
        aud: 'tasklane-api',
        sid: expect.stringMatching(UUID),
      });
      expect((claims.exp as number) - (claims.iat as number)).toBe(ACCESS_TTL_SECONDS);

      // Stored as an argon2id hash, never the password itself.
      const [row] = await t.dataSource.query(`SELECT email, name, password_hash FROM users WHERE id = $1`, [user.id]);
      expect(row.email).toBe(user.email);
      expect(row.name).toBe('Ada Lovelace');
      expect(row.password_hash).toMatch(/^\$argon2id\$/);

      const meRes = await me(accessToken);
      expect(expectData(meRes, 200)).toEqual(user);
    });

    it('accepts passwords of exactly 8 and exactly 128 characters', async () => {
      for (const password of ['p'.repeat(8), 'p'.repeat(128)]) {
        const res = await register({ email: uniqueEmail(), password, name: 'Edge' });
        expectData(res, 201);
        await login(t, res.body.data.user.email, password);
      }
    });

    it('is 409 CONFLICT when the email is taken, whatever its case', async () => {
      const email = uniqueEmail('taken');
      await registerUser(t, { email });
      const res = await register({ email: email.toUpperCase(), password: 'password-456', name: 'Someone Else' });
      expectError(res, 409, 'CONFLICT');
      const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM users WHERE email = $1`, [
        email,
      ]);
      expect(count).toBe(1);
    });

    const valid = (): Record<string, unknown> => ({
      email: uniqueEmail(),
      password: 'password-123',
      name: 'Valid Name',
    });
    it.each<[string, Record<string, unknown>, string[]]>([
      ['an invalid email', { email: 'not-an-email' }, ['email']],
      ['a missing email', { email: undefined }, ['email']],
      ['an email that is a number', { email: 42 }, ['email']],
      ['a 7-character password', { password: 'p'.repeat(7) }, ['password']],
      ['a 129-character password', { password: 'p'.repeat(129) }, ['password']],
      ['a password that is a number', { password: 12345678 }, ['password']],
      ['a name empty after trimming', { name: '   ' }, ['name']],
      ['a missing name', { name: undefined }, ['name']],
      ['a name that is a number', { name: 123 }, ['name']],
      ['a name that is a boolean', { name: true }, ['name']],
      ['an unknown property', { nickname: 'ada' }, ['nickname']],
      ['a role (nobody becomes admin through the public API)', { role: 'admin' }, ['role']],
      ['several problems at once', { email: 'nope', password: 'short', name: '' }, ['email', 'name', 'password']],
    ])('is 400 VALIDATION_FAILED for %s, naming the field', async (_what, change, fields) => {
      const res = await register({ ...valid(), ...change });
      expectValidationFailed(res, fields);
      if (change.nickname) {
        expect(res.body.error.details[0].message).toContain('nickname');
      }
    });

    it('creates nothing when validation fails', async () => {
      const email = uniqueEmail('invalid');
      expectValidationFailed(await register({ email, password: 'short', name: 'X' }), ['password']);
      const rows = await t.dataSource.query(`SELECT 1 FROM users WHERE email = $1`, [email]);
      expect(rows).toHaveLength(0);
    });

    it('is 400 MALFORMED_BODY for JSON that does not parse', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .set('Content-Type', 'application/json')
        .send('{"email": "a@example.com",');
      expectError(res, 400, 'MALFORMED_BODY');
    });
  });

  describe('POST /api/v1/auth/login', () => {
    let alice: SignedInUser;
    beforeAll(async () => {
      alice = await registerUser(t, { name: 'Alice' });
    });

    function expectSignedIn(res: Response): { accessToken: string; refreshToken: string } {
      const data = expectData(res, 200) as Record<string, unknown>;
      expect(Object.keys(data).sort()).toEqual(TOKENS_KEYS);
      expect(data.user).toMatchObject({ id: alice.id, email: alice.email, name: 'Alice', role: 'user' });
      expect(data.expiresIn).toBe(ACCESS_TTL_SECONDS);
      expect(res.headers['cache-control']).toBe('no-store');
      expectNoSecrets(res.body);
      return data as { accessToken: string; refreshToken: string };
    }

    it('signs in with a JSON body: 200 with the user and a new session', async () => {
      const res = await t.http().post('/api/v1/auth/login').send({ email: alice.email, password: alice.password });
      const tokens = expectSignedIn(res);
      expect(claimsOf(tokens.accessToken).sid).not.toBe(claimsOf(alice.accessToken).sid);
      expectData(await me(tokens.accessToken), 200);
    });

    it('signs in with an application/x-www-form-urlencoded body', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .type('form')
        .send({ email: alice.email, password: alice.password });
      const tokens = expectSignedIn(res);
      expectData(await me(tokens.accessToken), 200);
    });

    it('compares the email case-insensitively', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ email: alice.email.toUpperCase(), password: alice.password });
      expectSignedIn(res);
    });

    it('answers an unknown email and a wrong password alike: 401 with one message and WWW-Authenticate', async () => {
      const unknown = await t
        .http()
        .post('/api/v1/auth/login')
        .send({ email: uniqueEmail('nobody'), password: alice.password });
      const wrong = await t.http().post('/api/v1/auth/login').send({ email: alice.email, password: 'wrong-password' });
      expectUnauthenticated(unknown);
      expectUnauthenticated(wrong);
      expect(wrong.body.error.message).toBe(unknown.body.error.message);
      expect(wrong.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
    });

    it('is 415 UNSUPPORTED_MEDIA_TYPE for a text/plain body', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .set('Content-Type', 'text/plain')
        .send(`email=${alice.email}&password=${alice.password}`);
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('is 400 VALIDATION_FAILED naming a missing password and an unknown property', async () => {
      const res = await t.http().post('/api/v1/auth/login').send({ email: alice.email, remember: true });
      expectValidationFailed(res, ['password', 'remember']);
    });

    it('does not sign in a deleted account', async () => {
      const bob = await registerUser(t);
      expectNoContent(await t.http().delete(`/api/v1/users/${bob.id}`).set(bearer(bob.accessToken)));
      const res = await t.http().post('/api/v1/auth/login').send({ email: bob.email, password: bob.password });
      expectUnauthenticated(res);
    });
  });

  describe('POST /api/v1/auth/refresh', () => {
    it('exchanges a refresh token for a new pair of the same session; the old one is then rejected', async () => {
      const user = await registerUser(t);
      const res = await refresh(user.refreshToken);
      const data = expectData(res, 200) as { accessToken: string; refreshToken: string; user: unknown };
      expect(Object.keys(data).sort()).toEqual(TOKENS_KEYS);
      expect(data.user).toMatchObject({ id: user.id, email: user.email });
      expect(res.headers['cache-control']).toBe('no-store');
      expect(data.refreshToken).not.toBe(user.refreshToken);
      expect(claimsOf(data.accessToken).sid).toBe(claimsOf(user.accessToken).sid);
      expectData(await me(data.accessToken), 200);

      const again = await refresh(user.refreshToken);
      expectUnauthenticated(again);
    });

    it('treats a used refresh token as stolen: 401 and the whole family is revoked', async () => {
      const user = await registerUser(t);
      const other = await login(t, user.email, user.password); // another session of the same user

      const second = expectData(await refresh(user.refreshToken), 200) as { accessToken: string; refreshToken: string };
      const third = expectData(await refresh(second.refreshToken), 200) as {
        accessToken: string;
        refreshToken: string;
      };
      expectData(await me(third.accessToken), 200);

      // The first token, already used, comes back: the thief or the owner, we cannot tell.
      const reuse = await refresh(user.refreshToken);
      expectUnauthenticated(reuse);
      expect(await sessionState(third.accessToken)).toEqual({ revoked_reason: 'reuse' });

      // The newest refresh token of the family and every access token of it stop working.
      expectUnauthenticated(await refresh(third.refreshToken));
      expectUnauthenticated(await me(third.accessToken));
      expectUnauthenticated(await me(second.accessToken));
      expectUnauthenticated(await me(user.accessToken));

      // The user's other session is another family and keeps working.
      expectData(await me(other.accessToken), 200);
      expectData(await refresh(other.refreshToken), 200);
    });

    it('is 401 for a refresh token it never issued', async () => {
      expectUnauthenticated(await refresh('garbage'));
      expectUnauthenticated(await refresh(Buffer.alloc(32, 7).toString('base64url')));
    });

    it('is 401 for an access token presented as a refresh token', async () => {
      const user = await registerUser(t);
      expectUnauthenticated(await refresh(user.accessToken));
      // ...and that did not spend or revoke anything.
      expectData(await refresh(user.refreshToken), 200);
    });

    it('is 401 for an expired refresh token', async () => {
      const user = await registerUser(t);
      // TypeORM answers an UPDATE with [rows, rowCount].
      const [updated] = await t.dataSource.query(
        `UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE token_hash = $1 RETURNING id`,
        [sha256(user.refreshToken)],
      );
      expect(updated).toHaveLength(1);
      expectUnauthenticated(await refresh(user.refreshToken));
    });

    it('is 401 once the account is deleted', async () => {
      const user = await registerUser(t);
      expectNoContent(await t.http().delete(`/api/v1/users/${user.id}`).set(bearer(user.accessToken)));
      expectUnauthenticated(await refresh(user.refreshToken));
    });

    it('is 400 VALIDATION_FAILED without a refreshToken', async () => {
      expectValidationFailed(await t.http().post('/api/v1/auth/refresh').send({}), ['refreshToken']);
      expectValidationFailed(await refresh(''), ['refreshToken']);
    });
  });

  describe('POST /api/v1/auth/logout', () => {
    it('is 204 with no body; the session ends at once and the other sessions keep working', async () => {
      const user = await registerUser(t);
      const other = await login(t, user.email, user.password);
      expectData(await me(user.accessToken), 200);

      expectNoContent(await logout(user.refreshToken));
      expect(await sessionState(user.accessToken)).toEqual({ revoked_reason: 'logout' });

      const meRes = await me(user.accessToken);
      expectUnauthenticated(meRes);
      expect(meRes.body.error.message).toMatch(/revoked/i);
      expectUnauthenticated(await refresh(user.refreshToken));

      expectData(await me(other.accessToken), 200);
      expectData(await refresh(other.refreshToken), 200);
    });

    it('ends the session from any refresh token of its family, the rotated ones included', async () => {
      const user = await registerUser(t);
      const next = expectData(await refresh(user.refreshToken), 200) as { accessToken: string; refreshToken: string };
      expectNoContent(await logout(next.refreshToken));
      expectUnauthenticated(await me(next.accessToken));
      expectUnauthenticated(await me(user.accessToken));
    });

    it('is 401 for an unknown refresh token', async () => {
      expectUnauthenticated(await logout('not-a-refresh-token'));
    });

    it('is 400 VALIDATION_FAILED without a refreshToken', async () => {
      expectValidationFailed(await t.http().post('/api/v1/auth/logout').send({}), ['refreshToken']);
    });
  });

  describe('GET /api/v1/auth/me', () => {
    let alice: SignedInUser;
    let claims: Claims;
    beforeAll(async () => {
      alice = await registerUser(t, { name: 'Alice Me' });
      claims = claimsOf(alice.accessToken);
    });

    it('is 200 with the signed-in user', async () => {
      const user = expectData(await me(alice.accessToken), 200);
      expect(Object.keys(user).sort()).toEqual(USER_KEYS);
      expect(user).toMatchObject({ id: alice.id, email: alice.email, name: 'Alice Me', role: 'user', version: 1 });
      expectNoSecrets(user);
    });

    it('accepts a hand-made token with exactly the claims it issues (the control for the cases below)', async () => {
      // The hand-made signer reproduces the server's token byte for byte...
      expect(signJwt({ ...claims })).toBe(alice.accessToken);
      // ...and a token it makes with fresh times is accepted.
      const forged = signJwt({ ...claims, iat: nowSeconds() - 5, exp: nowSeconds() + 60 });
      expect(forged).not.toBe(alice.accessToken);
      expect(expectData(await me(forged), 200)).toMatchObject({ id: alice.id });
    });

    const now = nowSeconds();
    const cases: [string, () => Record<string, string>][] = [
      ['no Authorization header', () => ({})],
      ['a Basic scheme', () => ({ Authorization: basicAuth(alice.email, alice.password) })],
      ['a valid token under another scheme', () => ({ Authorization: `Token ${alice.accessToken}` })],
      ['a bare token without a scheme', () => ({ Authorization: alice.accessToken })],
      ['"Bearer" and nothing else', () => ({ Authorization: 'Bearer ' })],
      ['a garbage token', () => bearer('garbage')],
      ['three garbage segments', () => bearer('abc.def.ghi')],
      ['an expired token', () => bearer(signJwt({ ...claims, iat: now - 3600, exp: now - 60 }))],
      ['a token signed with another secret', () => bearer(signJwt({ ...claims }, { secret: `x${TEST_JWT_SECRET}` }))],
      [
        'a real token whose payload was edited (role: admin)',
        () => {
          const [header, , signature] = alice.accessToken.split('.');
          return bearer(`${header}.${b64url({ ...claims, role: 'admin' })}.${signature}`);
        },
      ],
      ['an alg: none token', () => bearer(signJwt({ ...claims }, { alg: 'none' }))],
      ['an HS512 token signed with the right secret', () => bearer(signJwt({ ...claims }, { alg: 'HS512' }))],
      ['an HS384 token signed with the right secret', () => bearer(signJwt({ ...claims }, { alg: 'HS384' }))],
      ['a wrong issuer', () => bearer(signJwt({ ...claims, iss: 'someone-else' }))],
      ['no issuer', () => bearer(signJwt({ ...claims, iss: undefined }))],
      ['a wrong audience', () => bearer(signJwt({ ...claims, aud: 'another-api' }))],
      ['no audience', () => bearer(signJwt({ ...claims, aud: undefined }))],
      ['typ: refresh', () => bearer(signJwt({ ...claims, typ: 'refresh' }))],
      ['no typ', () => bearer(signJwt({ ...claims, typ: undefined }))],
      ['no session id', () => bearer(signJwt({ ...claims, sid: undefined }))],
      ['an unknown role', () => bearer(signJwt({ ...claims, role: 'superuser' }))],
      ['a refresh token used as an access token', () => bearer(alice.refreshToken)],
      // Correctly signed, but its times do not hold (jsonwebtoken checks exp and nbf only when present).
      ['no exp', () => bearer(signJwt({ ...claims, exp: undefined }))],
      ['a non-numeric exp', () => bearer(signJwt({ ...claims, exp: String(now + 600) as never }))],
      ['no iat', () => bearer(signJwt({ ...claims, iat: undefined }))],
      ['an iat a minute in the future', () => bearer(signJwt({ ...claims, iat: now + 90, exp: now + 600 }))],
      ['an nbf still to come', () => bearer(signJwt({ ...claims, nbf: now + 90 }))],
      [
        'a lifetime longer than JWT_ACCESS_TTL',
        () => bearer(signJwt({ ...claims, iat: now - 5, exp: now + 7 * 86400 })),
      ],
      ['exp before iat', () => bearer(signJwt({ ...claims, iat: now, exp: now - 1 }))],
    ];
    it.each(cases)('is 401 UNAUTHENTICATED with WWW-Authenticate for %s', async (_what, headers) => {
      const res = await t.http().get('/api/v1/auth/me').set(headers());
      expectUnauthenticated(res);
    });

    it('accepts an iat a few seconds ahead (another instance whose clock is ahead) and a past nbf', async () => {
      const ahead = signJwt({ ...claims, iat: nowSeconds() + 10, exp: nowSeconds() + 300 });
      expect(expectData(await me(ahead), 200)).toMatchObject({ id: alice.id });
      const active = signJwt({ ...claims, nbf: nowSeconds() - 1 });
      expect(expectData(await me(active), 200)).toMatchObject({ id: alice.id });
    });

    it('says an expired token is expired', async () => {
      const res = await me(signJwt({ ...claims, iat: now - 3600, exp: now - 60 }));
      expectUnauthenticated(res);
      expect(res.body.error.message).toMatch(/expired/i);
    });

    it('is 401 with the token of an account that has been deleted', async () => {
      const user = await registerUser(t);
      const other = await login(t, user.email, user.password);
      expectData(await me(user.accessToken), 200);
      expectNoContent(await t.http().delete(`/api/v1/users/${user.id}`).set(bearer(user.accessToken)));
      expectUnauthenticated(await me(user.accessToken));
      expectUnauthenticated(await me(other.accessToken));
    });

    it('is 401, not 404, with a valid token of an account deleted without the API (no revocation)', async () => {
      const user = await registerUser(t);
      expectData(await me(user.accessToken), 200);
      await t.dataSource.query(`UPDATE users SET deleted_at = now() WHERE id = $1`, [user.id]);
      expectUnauthenticated(await me(user.accessToken));
    });
  });

  describe('POST /api/v1/auth/password', () => {
    it('is 204; every session ends, the caller’s own included; only the new password signs in', async () => {
      const user = await registerUser(t);
      const other = await login(t, user.email, user.password);
      const newPassword = 'a-brand-new-password';

      const res = await changePassword(user.accessToken, { currentPassword: user.password, newPassword });
      expectNoContent(res);

      expectUnauthenticated(await me(user.accessToken));
      expectUnauthenticated(await me(other.accessToken));
      expectUnauthenticated(await refresh(user.refreshToken));
      expectUnauthenticated(await refresh(other.refreshToken));
      expect(await sessionState(other.accessToken)).toEqual({ revoked_reason: 'password_change' });

      const old = await t.http().post('/api/v1/auth/login').send({ email: user.email, password: user.password });
      expectUnauthenticated(old);
      const fresh = await login(t, user.email, newPassword);
      expectData(await me(fresh.accessToken), 200);
    });

    it('is 400 VALIDATION_FAILED on currentPassword when it is wrong, and changes nothing', async () => {
      const user = await registerUser(t);
      const res = await changePassword(user.accessToken, {
        currentPassword: 'not-the-password',
        newPassword: 'another-password',
      });
      expectValidationFailed(res, ['currentPassword']);
      expectData(await me(user.accessToken), 200);
      await login(t, user.email, user.password);
    });

    it.each<[string, string, string[]]>([
      ['too short', 'short', ['newPassword']],
      ['too long', 'n'.repeat(129), ['newPassword']],
    ])('is 400 VALIDATION_FAILED on newPassword when it is %s, and changes nothing', async (_what, newPassword) => {
      const user = await registerUser(t);
      const res = await changePassword(user.accessToken, { currentPassword: user.password, newPassword });
      expectValidationFailed(res, ['newPassword']);
      expectData(await me(user.accessToken), 200);
      await login(t, user.email, user.password);
    });

    it('is 400 VALIDATION_FAILED without currentPassword', async () => {
      const user = await registerUser(t);
      expectValidationFailed(await changePassword(user.accessToken, { newPassword: 'another-password' }), [
        'currentPassword',
      ]);
    });

    it('is 401 without an access token, and with a revoked one', async () => {
      const user = await registerUser(t);
      const body = { currentPassword: user.password, newPassword: 'another-password' };
      expectUnauthenticated(await t.http().post('/api/v1/auth/password').send(body));
      expectNoContent(await logout(user.refreshToken));
      expectUnauthenticated(await changePassword(user.accessToken, body));
      await login(t, user.email, user.password);
    });
  });

  describe('POST /api/v1/auth/token (OAuth2, RFC 6749, not enveloped)', () => {
    const SWAGGER_BASIC = `Basic ${Buffer.from(':').toString('base64')}`;

    function expectOAuthTokens(res: Response): { access_token: string; refresh_token: string } {
      expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status: 200 });
      expect(res.headers['content-type']).toBe(JSON_UTF8);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers.pragma).toBe('no-cache');
      expect(Object.keys(res.body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
      expect(res.body).toEqual({
        access_token: expect.any(String),
        token_type: 'bearer',
        expires_in: ACCESS_TTL_SECONDS,
        refresh_token: expect.any(String),
      });
      return res.body;
    }

    function expectOAuthError(res: Response, status: number, error: string): void {
      expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status, body: { error } });
      expect(res.headers['content-type']).toBe(JSON_UTF8);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(Object.keys(res.body).sort()).toEqual(['error', 'error_description']);
      expect(res.body.error_description).toEqual(expect.any(String));
      expect(res.body.error_description.length).toBeGreaterThan(0);
      // RFC 6749 §5.2: error_description is limited to printable ASCII without " and \.
      expect(res.body.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    }

    let alice: SignedInUser;
    beforeAll(async () => {
      alice = await registerUser(t, { name: 'Alice OAuth' });
    });

    it('grants tokens for exactly what Swagger UI’s Authorize dialog sends', async () => {
      const res = await t.http().post('/api/v1/auth/token').set('Authorization', SWAGGER_BASIC).type('form').send({
        grant_type: 'password',
        username: alice.email,
        password: alice.password,
        scope: '',
        client_id: '',
        client_secret: '',
      });
      const tokens = expectOAuthTokens(res);
      expect(claimsOf(tokens.access_token)).toMatchObject({ sub: alice.id, typ: 'access' });
      expect(expectData(await me(tokens.access_token), 200)).toMatchObject({ id: alice.id, email: alice.email });
    });

    it('takes the username case-insensitively, without Basic header or optional fields', async () => {
      const res = await oauthToken({
        grant_type: 'password',
        username: alice.email.toUpperCase(),
        password: alice.password,
      });
      expectOAuthTokens(res);
    });

    it('grants new tokens for a refresh_token; the new access token works and the old refresh token is spent', async () => {
      const first = expectOAuthTokens(
        await oauthToken({ grant_type: 'password', username: alice.email, password: alice.password }),
      );
      const second = expectOAuthTokens(
        await t
          .http()
          .post('/api/v1/auth/token')
          .set('Authorization', SWAGGER_BASIC)
          .type('form')
          .send({ grant_type: 'refresh_token', refresh_token: first.refresh_token, scope: '', client_id: '' }),
      );
      expect(second.refresh_token).not.toBe(first.refresh_token);
      expect(claimsOf(second.access_token).sid).toBe(claimsOf(first.access_token).sid);
      expectData(await me(second.access_token), 200);
      // The token endpoint and /auth/refresh share the same sessions.
      expectData(await refresh(second.refresh_token), 200);
      expectOAuthError(
        await oauthToken({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
        400,
        'invalid_grant',
      );
    });

    it('is 400 invalid_grant for a wrong password and for an unknown user, alike', async () => {
      const wrong = await oauthToken({ grant_type: 'password', username: alice.email, password: 'wrong-password' });
      const unknown = await oauthToken({
        grant_type: 'password',
        username: uniqueEmail('nobody'),
        password: alice.password,
      });
      expectOAuthError(wrong, 400, 'invalid_grant');
      expectOAuthError(unknown, 400, 'invalid_grant');
      expect(wrong.body.error_description).toBe(unknown.body.error_description);
    });

    it('is 400 invalid_grant for an unknown refresh token', async () => {
      expectOAuthError(await oauthToken({ grant_type: 'refresh_token', refresh_token: 'nope' }), 400, 'invalid_grant');
    });

    it('is 400 unsupported_grant_type for another grant', async () => {
      for (const grant_type of ['client_credentials', 'authorization_code', 'PASSWORD']) {
        expectOAuthError(
          await oauthToken({ grant_type, username: alice.email, password: alice.password }),
          400,
          'unsupported_grant_type',
        );
      }
    });

    it.each<[string, Record<string, string>]>([
      ['a password grant without username', { grant_type: 'password', password: 'password-123' }],
      ['a password grant without password', { grant_type: 'password', username: 'a@example.com' }],
      ['a refresh_token grant without refresh_token', { grant_type: 'refresh_token' }],
      ['no grant_type', { username: 'a@example.com', password: 'password-123' }],
    ])('is 400 invalid_request for %s', async (_what, form) => {
      expectOAuthError(await oauthToken(form), 400, 'invalid_request');
    });

    it('answers a JSON body with an RFC 6749 error (invalid_request), not a 500 or the envelope', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/token')
        .send({ grant_type: 'password', username: alice.email, password: alice.password });
      expectOAuthError(res, 400, 'invalid_request');
      expect(res.body.error_description).toMatch(/x-www-form-urlencoded/);
    });
  });

  describe('X-Request-Id', () => {
    it('reuses a well-formed incoming id in the header and meta.requestId', async () => {
      const user = await registerUser(t);
      const id = 'client-req_42.Abc';
      const res = await t.http().get('/api/v1/auth/me').set(bearer(user.accessToken)).set('X-Request-Id', id);
      expectData(res, 200);
      expect(res.headers['x-request-id']).toBe(id);
      expect(res.body.meta.requestId).toBe(id);
    });

    it('reuses a well-formed incoming id in the header and error.requestId', async () => {
      const id = 'x'.repeat(128);
      const res = await t.http().get('/api/v1/auth/me').set('X-Request-Id', id);
      expectUnauthenticated(res);
      expect(res.headers['x-request-id']).toBe(id);
      expect(res.body.error.requestId).toBe(id);
    });

    it.each([
      ['with spaces', 'has spaces in it'],
      ['200 characters long', 'a'.repeat(200)],
      ['129 characters long', 'a'.repeat(129)],
      ['with a slash and a quote', 'abc/def"'],
    ])('replaces an incoming id %s', async (_what, id) => {
      const res = await t
        .http()
        .post('/api/v1/auth/login')
        .set('X-Request-Id', id)
        .send({
          email: uniqueEmail('nobody'),
          password: 'password-123',
        });
      expectUnauthenticated(res);
      expect(res.headers['x-request-id']).not.toBe(id);
      expect(res.headers['x-request-id']).toMatch(/^[A-Za-z0-9._-]{1,128}$/);
      expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
    });

    it('gives each request its own id when none is sent', async () => {
      const a = await t.http().get('/api/v1/auth/me');
      const b = await t.http().get('/api/v1/auth/me');
      expect(a.headers['x-request-id']).toEqual(expect.any(String));
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it('is set on the OAuth2 token endpoint too, reusing a well-formed id', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/token')
        .set('X-Request-Id', 'oauth-1')
        .type('form')
        .send({ grant_type: 'nope' });
      expect(res.status).toBe(400);
      expect(res.headers['x-request-id']).toBe('oauth-1');
    });
  });
});

describe('auth: sign-in rate limits', () => {
  const attempt = (t: TestApp, email: string, password: string): Promise<Response> =>
    t.http().post('/api/v1/auth/login').send({ email, password });

  function expectRateLimited(res: Response, maxRetryAfter: number): number {
    expectError(res, 429, 'RATE_LIMITED');
    const retryAfter = Number(res.headers['retry-after']);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(maxRetryAfter);
    return retryAfter;
  }

  describe('per account (email and IP)', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3', LOGIN_RATE_LIMIT_PER_IP: '1000' } });
    });
    afterAll(() => t.close());

    it('is 429 RATE_LIMITED with Retry-After after the limit, even with the right password', async () => {
      const victim = await registerUser(t);
      for (let i = 0; i < 3; i++) expectUnauthenticated(await attempt(t, victim.email, 'wrong-password'));

      const blocked = await attempt(t, victim.email, victim.password);
      const retryAfter = expectRateLimited(blocked, 15 * 60);
      expect(retryAfter).toBeGreaterThan(60); // the 15-minute account window, not the per-minute IP one
      // The same email in another case is the same account.
      expectRateLimited(await attempt(t, victim.email.toUpperCase(), victim.password), 15 * 60);
      // The OAuth2 token endpoint shares the limit, in its own error format.
      const oauth = await t
        .http()
        .post('/api/v1/auth/token')
        .type('form')
        .send({ grant_type: 'password', username: victim.email, password: victim.password });
      expect(oauth.status).toBe(429);
      expect(Object.keys(oauth.body).sort()).toEqual(['error', 'error_description']);
      expect(oauth.headers['retry-after']).toMatch(/^\d+$/);
    });

    it('does not stop another account from signing in from the same IP', async () => {
      const victim = await registerUser(t);
      const bystander = await registerUser(t);
      for (let i = 0; i < 4; i++) await attempt(t, victim.email, 'wrong-password');
      expectRateLimited(await attempt(t, victim.email, victim.password), 15 * 60);

      expectData(await attempt(t, bystander.email, bystander.password), 200);
      expectData(await attempt(t, bystander.email, bystander.password), 200);
    });
  });

  describe('per IP', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ env: { LOGIN_RATE_LIMIT_PER_IP: '4', LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000' } });
    });
    afterAll(() => t.close());

    it('is 429 RATE_LIMITED with Retry-After once one IP tries too many accounts', async () => {
      const user = await registerUser(t);
      for (let i = 0; i < 4; i++) expectUnauthenticated(await attempt(t, uniqueEmail('spray'), 'password-123'));
      expectRateLimited(await attempt(t, user.email, user.password), 60);
      // Registration and token use are not sign-in attempts and stay available.
      expectData(await t.http().get('/api/v1/auth/me').set(bearer(user.accessToken)), 200);
    });
  });
});
