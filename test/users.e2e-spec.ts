import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { UsersService } from '../src/users/users.service';
import { USER_KEYS, UserBody } from './support/bodies';
import {
  etag,
  expectData,
  expectError,
  expectList,
  expectNoContent,
  expectStatus,
  expectUnauthenticated,
  expectValidationFailed,
  flipCharacter,
  ISO_UTC,
  UUID,
  walkPages,
} from './support/envelope';
import { createTestApp, createTestDatabase, TestApp } from './support/test-app';
import { bearer, createAdmin, login, registerUser, SignedInUser, token, uniqueEmail } from './support/users';

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const USERS = '/api/v1/users';
const userUrl = (id: string): string => `${USERS}/${id}`;

/** A user resource as the contract describes it, never a password hash. */
function expectUserShape(user: UserBody): void {
  expect(Object.keys(user).sort()).toEqual(USER_KEYS);
  expect(user.id).toMatch(UUID);
  expect(['user', 'admin']).toContain(user.role);
  expect(user.avatarUrl).toBeNull();
  expect(user.createdAt).toMatch(ISO_UTC);
  expect(user.updatedAt).toMatch(ISO_UTC);
  expect(Number.isInteger(user.version)).toBe(true);
  expect(JSON.stringify(user)).not.toMatch(/password|hash|argon/i);
}

// ---------------------------------------------------------------------------------------------

describe('users (/api/v1/users)', () => {
  let t: TestApp;
  let admin: SignedInUser;

  beforeAll(async () => {
    t = await createTestApp();
    admin = await createAdmin(t);
  });
  afterAll(() => t.close());

  const get = (url: string, accessToken: string) => t.http().get(url).set(bearer(accessToken));
  const list = (accessToken: string, query: Record<string, string | number>) =>
    t.http().get(USERS).query(query).set(bearer(accessToken));
  const readUser = async (id: string): Promise<UserBody> =>
    expectData<UserBody>(await get(userUrl(id), admin.accessToken));

  /** Creates a user as the admin and returns it. */
  async function createUser(body: { email?: string; name?: string; password?: string; role?: string } = {}) {
    const res = await t
      .http()
      .post(USERS)
      .set(bearer(admin.accessToken))
      .send({ email: uniqueEmail(), password: 'password-123', name: 'Created User', ...body });
    return expectData<UserBody>(res, 201);
  }

  // -------------------------------------------------------------------------------------------
  describe('GET /users: access', () => {
    it('is 401 without a token, with the Bearer challenge', async () => {
      expectUnauthenticated(await t.http().get(USERS));
    });

    it('is 401 with a malformed or bogus token', async () => {
      expectUnauthenticated(await t.http().get(USERS).set('Authorization', 'Token abc'));
      expectUnauthenticated(await t.http().get(USERS).set(bearer('x.y.z')));
    });

    it('is 403 FORBIDDEN for a signed-in user who is not an admin', async () => {
      const user = await registerUser(t);
      expectError(await list(user.accessToken, {}), 403, 'FORBIDDEN');
    });

    it('answers an admin with the list envelope, users in the contract shape', async () => {
      const { data, page } = expectList<UserBody>(await list(admin.accessToken, {}));
      expect(data.length).toBeGreaterThan(0);
      expect(page.limit).toBe(20);
      data.forEach(expectUserShape);
      expect(data.map((u) => u.id)).toContain(admin.id);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /users: filters', () => {
    const run = token();
    const made: Record<string, UserBody> = {};

    beforeAll(async () => {
      const names: Record<string, string> = {
        percent: 'Rate 100% Sure',
        percentDecoy: 'Rate 1000 Sure',
        underscore: 'snake_case Sam',
        underscoreDecoy: 'snakeXcase Sam',
        backslash: 'Back\\slash Bo',
        backslashDecoy: 'Backslash Bo',
      };
      for (const [key, name] of Object.entries(names)) {
        made[key] = await createUser({ name, email: `lit-${key.toLowerCase()}-${run}@example.com` });
      }
      made.admin = await createUser({ name: 'Filter Admin', email: `lit-admin-${run}@example.com`, role: 'admin' });
    });

    const ids = (res: Response): string[] => expectList<UserBody>(res).data.map((u) => u.id);

    it('q matches the name, case-insensitively', async () => {
      expect(ids(await list(admin.accessToken, { q: 'rate 100% SURE' }))).toEqual([made.percent.id]);
      expect(ids(await list(admin.accessToken, { q: 'SNAKE_CASE' }))).toEqual([made.underscore.id]);
    });

    it('q matches the email, case-insensitively', async () => {
      expect(ids(await list(admin.accessToken, { q: `LIT-PERCENTDECOY-${run.toUpperCase()}` }))).toEqual([
        made.percentDecoy.id,
      ]);
    });

    it('q treats % literally', async () => {
      expect(ids(await list(admin.accessToken, { q: '100%' }))).toEqual([made.percent.id]);
      expect(ids(await list(admin.accessToken, { q: '%' }))).toEqual([made.percent.id]);
    });

    it('q treats _ literally', async () => {
      expect(ids(await list(admin.accessToken, { q: 'e_c' }))).toEqual([made.underscore.id]);
      expect(ids(await list(admin.accessToken, { q: '_' }))).toEqual([made.underscore.id]);
    });

    it('q treats \\ literally', async () => {
      expect(ids(await list(admin.accessToken, { q: 'k\\s' }))).toEqual([made.backslash.id]);
    });

    it('q is trimmed', async () => {
      expect(ids(await list(admin.accessToken, { q: '  e_c  ' }))).toEqual([made.underscore.id]);
    });

    it('q that matches nothing gives an empty last page', async () => {
      const { data, page } = expectList<UserBody>(await list(admin.accessToken, { q: `nobody-${run}` }));
      expect(data).toEqual([]);
      expect(page.nextCursor).toBeNull();
    });

    it('role filters by platform role, alone and with q', async () => {
      const admins = expectList<UserBody>(await list(admin.accessToken, { role: 'admin', limit: 100 })).data;
      expect(admins.length).toBeGreaterThanOrEqual(2);
      expect(admins.every((u) => u.role === 'admin')).toBe(true);
      expect(admins.map((u) => u.id)).toEqual(expect.arrayContaining([admin.id, made.admin.id]));

      const users = expectList<UserBody>(await list(admin.accessToken, { role: 'user', limit: 100 })).data;
      expect(users.every((u) => u.role === 'user')).toBe(true);
      expect(users.map((u) => u.id)).toContain(made.percent.id);

      expect(ids(await list(admin.accessToken, { q: `-${run}@`, role: 'admin' }))).toEqual([made.admin.id]);
      expect(ids(await list(admin.accessToken, { q: 'rate 100%', role: 'admin' }))).toEqual([]);
    });

    it('rejects a q with a NUL character with 400, not 500', async () => {
      expectError(await t.http().get(`${USERS}?q=a%00b`).set(bearer(admin.accessToken)), 400, 'VALIDATION_FAILED');
    });

    it('rejects an unknown role, a repeated q and a q over 100 characters', async () => {
      expectValidationFailed(await list(admin.accessToken, { role: 'owner' }), ['role']);
      expectValidationFailed(await t.http().get(`${USERS}?q=a&q=b`).set(bearer(admin.accessToken)), ['q']);
      expectValidationFailed(await list(admin.accessToken, { q: 'x'.repeat(101) }), ['q']);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /users: sorting and paging', () => {
    const run = token();
    const filter = `pager-${run}-`;
    const NAMES = ['Pager Delta', 'Pager Alpha', 'Pager Charlie', 'Pager Bravo'];
    const COUNT = 25;
    /** The data set as the test knows it: id, name and the created_at it was given. */
    const known: { id: string; name: string; createdAt: string }[] = [];

    beforeAll(async () => {
      for (let i = 0; i < COUNT; i++) {
        const email = `${filter}${String(i).padStart(2, '0')}@example.com`;
        const user = await createUser({ email, name: NAMES[i % NAMES.length] });
        // Nine distinct instants over 25 users, out of creation order: many createdAt ties.
        const createdAt = new Date(Date.UTC(2026, 0, 1, 0, (i * 7) % 9, 0, 250)).toISOString();
        await t.dataSource.query('UPDATE users SET created_at = $2 WHERE id = $1', [user.id, createdAt]);
        known.push({ id: user.id, name: user.name, createdAt });
      }
    });

    const byIdAscending = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    const ascending = (key: 'name' | 'createdAt') => (a: (typeof known)[number], b: (typeof known)[number]) =>
      a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : byIdAscending(a, b);

    /** The order the contract requires: the sort key, then the id, both in the sort's direction. */
    function expectedOrder(sort: string): string[] {
      const key = sort.replace(/^-/, '') as 'name' | 'createdAt';
      const ordered = [...known].sort(ascending(key));
      if (sort.startsWith('-')) ordered.reverse();
      return ordered.map((u) => u.id);
    }

    /** Follows nextCursor to the end; checks every page on the way. */
    const walk = (query: Record<string, string | number>, limit: number): Promise<UserBody[]> =>
      walkPages<UserBody>(
        (cursor) => list(admin.accessToken, { ...query, limit, ...(cursor ? { cursor } : {}) }),
        limit,
        COUNT + 1,
      );

    it('has ties in the data set, so that the id tie-break matters', () => {
      expect(new Set(known.map((u) => u.name)).size).toBeLessThan(COUNT);
      expect(new Set(known.map((u) => u.createdAt)).size).toBeLessThan(COUNT);
    });

    for (const sort of ['createdAt', '-createdAt', 'name', '-name']) {
      it(`sort=${sort}: every limit from 1 to 7 walks every user exactly once, in order`, async () => {
        const expected = expectedOrder(sort);
        for (let limit = 1; limit <= 7; limit++) {
          const seen = await walk({ q: filter, sort }, limit);
          const ids = seen.map((u) => u.id);
          expect(new Set(ids).size).toBe(ids.length);
          expect({ limit, ids }).toEqual({ limit, ids: expected });
        }
      });
    }

    it('returns the stored createdAt and name of every user', async () => {
      const seen = await walk({ q: filter, sort: 'createdAt' }, 100);
      const byId = new Map(known.map((u) => [u.id, u]));
      for (const user of seen) {
        expectUserShape(user);
        expect({ createdAt: user.createdAt, name: user.name }).toEqual({
          createdAt: byId.get(user.id)!.createdAt,
          name: byId.get(user.id)!.name,
        });
      }
    });

    it('sorts by -createdAt by default, 20 to a page', async () => {
      const { data, page } = expectList<UserBody>(await list(admin.accessToken, { q: filter }));
      expect(page.limit).toBe(20);
      expect(page.nextCursor).toEqual(expect.any(String));
      expect(data.map((u) => u.id)).toEqual(expectedOrder('-createdAt').slice(0, 20));
      const rest = expectList<UserBody>(await list(admin.accessToken, { q: filter, cursor: page.nextCursor! }));
      expect(rest.data.map((u) => u.id)).toEqual(expectedOrder('-createdAt').slice(20));
      expect(rest.page.nextCursor).toBeNull();
    });

    it('accepts limit=100 and then has no next page', async () => {
      const { data, page } = expectList<UserBody>(await list(admin.accessToken, { q: filter, limit: 100 }));
      expect(data).toHaveLength(COUNT);
      expect(page).toEqual({ limit: 100, nextCursor: null });
    });

    it('keeps a cursor valid with another page size (limit is not part of the list)', async () => {
      const first = expectList<UserBody>(await list(admin.accessToken, { q: filter, sort: 'name', limit: 3 }));
      const next = expectList<UserBody>(
        await list(admin.accessToken, { q: filter, sort: 'name', limit: 5, cursor: first.page.nextCursor! }),
      );
      expect(next.data.map((u) => u.id)).toEqual(expectedOrder('name').slice(3, 8));
    });

    it.each([['0'], ['101'], ['abc'], ['1.5'], ['-1'], [''], ['0x10'], ['1e1'], [' 5']])(
      'rejects limit=%j with 400',
      async (limit) => {
        expectValidationFailed(await list(admin.accessToken, { limit }), ['limit']);
      },
    );

    it.each([['email'], ['createdat'], ['+name'], ['name,-createdAt'], ['updatedAt']])(
      'rejects sort=%j with 400',
      async (sort) => {
        expectValidationFailed(await list(admin.accessToken, { sort }), ['sort']);
      },
    );

    it('rejects an unknown query parameter, naming it', async () => {
      expectValidationFailed(await list(admin.accessToken, { page: 2 }), ['page']);
      expectValidationFailed(await list(admin.accessToken, { q: filter, offset: 5 }), ['offset']);
    });

    describe('cursors', () => {
      let cursor: string;

      beforeAll(async () => {
        const { page } = expectList<UserBody>(await list(admin.accessToken, { q: filter, sort: 'name', limit: 5 }));
        cursor = page.nextCursor!;
        expect(cursor).toEqual(expect.any(String));
      });

      const next = (query: Record<string, string | number>) =>
        list(admin.accessToken, { q: filter, sort: 'name', limit: 5, ...query });

      it('the untouched cursor gives the next page', async () => {
        const { data } = expectList<UserBody>(await next({ cursor }));
        expect(data.map((u) => u.id)).toEqual(expectedOrder('name').slice(5, 10));
      });

      it('is opaque: it does not show the position in clear', () => {
        expect(cursor).not.toContain('Pager');
        for (const user of known) expect(cursor).not.toContain(user.id);
      });

      it('rejects a change to the payload', async () => {
        const [payload, signature] = cursor.split('.');
        for (const index of [0, Math.floor(payload.length / 2), payload.length - 2]) {
          expectError(await next({ cursor: `${flipCharacter(payload, index)}.${signature}` }), 400, 'INVALID_CURSOR');
        }
      });

      it('rejects a change to the signature', async () => {
        const [payload, signature] = cursor.split('.');
        for (const index of [0, Math.floor(signature.length / 2), signature.length - 1]) {
          expectError(await next({ cursor: `${payload}.${flipCharacter(signature, index)}` }), 400, 'INVALID_CURSOR');
        }
      });

      it('rejects a payload re-encoded with another position', async () => {
        const [payload, signature] = cursor.split('.');
        const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
        const forged = Buffer.from(JSON.stringify({ ...decoded, p: ['A', randomUUID()] })).toString('base64url');
        expectError(await next({ cursor: `${forged}.${signature}` }), 400, 'INVALID_CURSOR');
      });

      it.each([['garbage'], ['a.b'], ['a.b.c'], ['.'], ['eyJ9.'], ['%00'], ['x'.repeat(3000)]])(
        'rejects the garbage cursor %j',
        async (garbage) => {
          expectError(await next({ cursor: garbage }), 400, 'INVALID_CURSOR');
        },
      );

      it('rejects the cursor under another sort', async () => {
        for (const sort of ['-name', 'createdAt', '-createdAt']) {
          expectError(await next({ cursor, sort }), 400, 'INVALID_CURSOR');
        }
      });

      it('rejects the cursor under another filter', async () => {
        expectError(await next({ cursor, q: 'pager-' }), 400, 'INVALID_CURSOR');
        expectError(await next({ cursor, role: 'user' }), 400, 'INVALID_CURSOR');
        expectError(
          await list(admin.accessToken, { sort: 'name', limit: 5, cursor }), // q left out
          400,
          'INVALID_CURSOR',
        );
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('POST /users', () => {
    it('creates a user: 201, Location, ETag, envelope, role "user" by default', async () => {
      const email = uniqueEmail('created');
      const res = await t
        .http()
        .post(USERS)
        .set(bearer(admin.accessToken))
        .send({ email, password: 'password-123', name: 'New Person' });
      const user = expectData<UserBody>(res, 201);
      expectUserShape(user);
      expect(user).toMatchObject({ email, name: 'New Person', role: 'user', version: 1 });
      expect(res.headers.location).toBe(`/api/v1/users/${user.id}`);
      expect(res.headers.etag).toBe(etag(1));

      const located = expectData<UserBody>(await get(res.headers.location, admin.accessToken));
      expect(located).toEqual(user);
      // The password given is the one that signs in.
      await login(t, email, 'password-123');
    });

    it('honours role "admin": the new admin can list users', async () => {
      const email = uniqueEmail('made-admin');
      const user = await createUser({ email, role: 'admin' });
      expect(user.role).toBe('admin');
      const { accessToken } = await login(t, email, 'password-123');
      expectList<UserBody>(await list(accessToken, {}));
    });

    it('stores the email lower-case and the name trimmed', async () => {
      const email = uniqueEmail('mixed');
      const user = await createUser({ email: `  ${email.toUpperCase()} `, name: '  Spaced Out  ' });
      expect(user).toMatchObject({ email, name: 'Spaced Out' });
    });

    it('is 403 for a user who is not an admin, and creates nothing', async () => {
      const user = await registerUser(t);
      const email = uniqueEmail('not-made');
      const res = await t
        .http()
        .post(USERS)
        .set(bearer(user.accessToken))
        .send({ email, password: 'password-123', name: 'Nope', role: 'admin' });
      expectError(res, 403, 'FORBIDDEN');
      expect(expectList<UserBody>(await list(admin.accessToken, { q: email })).data).toEqual([]);
    });

    it('is 401 without a token', async () => {
      const res = await t.http().post(USERS).send({ email: uniqueEmail(), password: 'password-123', name: 'X' });
      expectUnauthenticated(res);
    });

    it('is 409 CONFLICT on a taken email, whatever its case', async () => {
      const existing = await createUser();
      for (const email of [existing.email, existing.email.toUpperCase()]) {
        const res = await t
          .http()
          .post(USERS)
          .set(bearer(admin.accessToken))
          .send({ email, password: 'password-123', name: 'Twin' });
        expectError(res, 409, 'CONFLICT');
      }
    });

    it('is 400 with one detail per invalid or unknown field', async () => {
      const res = await t
        .http()
        .post(USERS)
        .set(bearer(admin.accessToken))
        .send({ email: 'not-an-email', password: 'short', name: '   ', role: 'root', isAdmin: true });
      expectValidationFailed(res, ['email', 'password', 'name', 'role', 'isAdmin']);
      expect(res.body.error.details).toContainEqual({ field: 'email', message: 'email must be an email' });
    });

    it('is 400 for a null role (not silently the default)', async () => {
      const res = await t
        .http()
        .post(USERS)
        .set(bearer(admin.accessToken))
        .send({ email: uniqueEmail(), password: 'password-123', name: 'Null Role', role: null });
      expectValidationFailed(res, ['role']);
    });

    it('is 400, not 500, for a NUL character in a string, and creates nothing', async () => {
      const email = uniqueEmail('nul');
      const res = await t
        .http()
        .post(USERS)
        .set(bearer(admin.accessToken))
        .send({ email, password: 'password-123', name: 'Nul\u0000Byte' });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(expectList<UserBody>(await list(admin.accessToken, { q: email })).data).toEqual([]);
    });

    it('is 400 for missing fields and for values of the wrong JSON type', async () => {
      expectValidationFailed(await t.http().post(USERS).set(bearer(admin.accessToken)).send({}), [
        'email',
        'password',
        'name',
      ]);
      const res = await t
        .http()
        .post(USERS)
        .set(bearer(admin.accessToken))
        .send({ email: uniqueEmail(), password: 12345678, name: 42 });
      expectValidationFailed(res, ['password', 'name']);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /users/{id}', () => {
    let alice: SignedInUser;
    let bob: SignedInUser;

    beforeAll(async () => {
      alice = await registerUser(t, { name: 'Alice' });
      bob = await registerUser(t, { name: 'Bob' });
    });

    it('answers the user itself with the resource and ETag "<version>"', async () => {
      const res = await get(userUrl(alice.id), alice.accessToken);
      const user = expectData<UserBody>(res);
      expectUserShape(user);
      expect(user).toMatchObject({ id: alice.id, email: alice.email, name: 'Alice', role: 'user', version: 1 });
      expect(res.headers.etag).toBe(etag(user.version));
    });

    it('treats the id case-insensitively: the user itself in upper case is still itself', async () => {
      const user = expectData<UserBody>(await get(userUrl(alice.id.toUpperCase()), alice.accessToken));
      expect(user.id).toBe(alice.id);
      const res = await t
        .http()
        .patch(userUrl(alice.id.toUpperCase()))
        .set(bearer(alice.accessToken))
        .send({ name: 'Alice' });
      expect(expectData<UserBody>(res)).toMatchObject({ id: alice.id, name: 'Alice' });
    });

    it("is 404 NOT_FOUND (not 403) for another user's id", async () => {
      expectError(await get(userUrl(bob.id), alice.accessToken), 404, 'NOT_FOUND');
    });

    it('lets an admin see anyone', async () => {
      const res = await get(userUrl(bob.id), admin.accessToken);
      expect(expectData<UserBody>(res)).toMatchObject({ id: bob.id, email: bob.email });
      expect(res.headers.etag).toBe(etag(1));
    });

    it('is 400 VALIDATION_FAILED naming `id` for an id that is not a UUID', async () => {
      for (const id of ['not-a-uuid', '123', `${alice.id}x`]) {
        const res = await get(userUrl(id), admin.accessToken);
        expectValidationFailed(res, ['id']);
      }
    });

    it('is 404 for an unknown UUID, for admins and users alike', async () => {
      expectError(await get(userUrl(randomUUID()), admin.accessToken), 404, 'NOT_FOUND');
      expectError(await get(userUrl(randomUUID()), alice.accessToken), 404, 'NOT_FOUND');
    });

    it('is 401 without a token', async () => {
      expectUnauthenticated(await t.http().get(userUrl(alice.id)));
    });

    it('is 404 for a deleted user', async () => {
      const doomed = await createUser();
      await t.http().delete(userUrl(doomed.id)).set(bearer(admin.accessToken)).expect(204);
      expectError(await get(userUrl(doomed.id), admin.accessToken), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PUT /users/{id}', () => {
    let user: SignedInUser;

    beforeEach(async () => {
      user = await registerUser(t, { name: 'Put Person' });
    });

    const put = (id: string, accessToken: string, body: object) =>
      t.http().put(userUrl(id)).set(bearer(accessToken)).send(body);

    it('replaces name and email: version increments and the ETag changes', async () => {
      const before = await readUser(user.id);
      const email = uniqueEmail('replaced');
      const res = await put(user.id, user.accessToken, { name: '  Replaced Name ', email: email.toUpperCase() });
      const after = expectData<UserBody>(res);
      expectUserShape(after);
      expect(after).toMatchObject({ id: user.id, name: 'Replaced Name', email, role: 'user', version: 2 });
      expect(res.headers.etag).toBe(etag(2));
      expect(res.headers.etag).not.toBe(etag(before.version));
      expect(after.createdAt).toBe(before.createdAt);
      expect(Date.parse(after.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt));
      expect(await readUser(user.id)).toEqual(after);
      // The new email signs in, the old one does not.
      await login(t, email, user.password);
    });

    it('requires name and email (missing ones are a 400) and changes nothing', async () => {
      expectValidationFailed(await put(user.id, user.accessToken, { name: 'Only Name' }), ['email']);
      expectValidationFailed(await put(user.id, user.accessToken, { email: uniqueEmail() }), ['name']);
      expectValidationFailed(await put(user.id, user.accessToken, {}), ['name', 'email']);
      expect(await readUser(user.id)).toMatchObject({ name: 'Put Person', email: user.email, version: 1 });
    });

    it('is 400 for a null role sent by an admin', async () => {
      const res = await put(user.id, admin.accessToken, { name: 'N', email: user.email, role: null });
      expectValidationFailed(res, ['role']);
      expect(await readUser(user.id)).toMatchObject({ name: 'Put Person', role: 'user', version: 1 });
    });

    it('rejects unknown properties, such as password, naming them', async () => {
      const res = await put(user.id, user.accessToken, { name: 'N', email: user.email, password: 'password-456' });
      expectValidationFailed(res, ['password']);
    });

    it('is 403 when a user who is not an admin sends a role, even its own', async () => {
      for (const role of ['admin', 'user']) {
        const res = await put(user.id, user.accessToken, { name: 'Sneaky', email: user.email, role });
        expectError(res, 403, 'FORBIDDEN');
      }
      expect(await readUser(user.id)).toMatchObject({ name: 'Put Person', role: 'user', version: 1 });
    });

    it('lets an admin set the role', async () => {
      const res = await put(user.id, admin.accessToken, { name: 'Promoted', email: user.email, role: 'admin' });
      expect(expectData<UserBody>(res)).toMatchObject({ name: 'Promoted', role: 'admin', version: 2 });
    });

    it('is 409 CONFLICT when the email belongs to someone else, and changes nothing', async () => {
      const other = await registerUser(t);
      expectError(await put(user.id, user.accessToken, { name: 'Clash', email: other.email }), 409, 'CONFLICT');
      expect(await readUser(user.id)).toMatchObject({ name: 'Put Person', email: user.email, version: 1 });
    });

    it("is 404 for another user's id", async () => {
      const other = await registerUser(t);
      expectError(await put(other.id, user.accessToken, { name: 'X', email: other.email }), 404, 'NOT_FOUND');
    });

    it('is 412 with a stale If-Match and goes through with the current one', async () => {
      const body = { name: 'Guarded', email: user.email };
      const stale = await put(user.id, user.accessToken, body).set('If-Match', etag(7));
      expectError(stale, 412, 'PRECONDITION_FAILED');
      const fresh = await put(user.id, user.accessToken, body).set('If-Match', etag(1));
      expect(expectData<UserBody>(fresh)).toMatchObject({ name: 'Guarded', version: 2 });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PATCH /users/{id}', () => {
    let user: SignedInUser;

    beforeEach(async () => {
      user = await registerUser(t, { name: 'Patch Person' });
    });

    const patch = (id: string, accessToken: string, body: object, ifMatch?: string) => {
      const req = t.http().patch(userUrl(id)).set(bearer(accessToken));
      if (ifMatch !== undefined) req.set('If-Match', ifMatch);
      return req.send(body);
    };

    it('changes only the given fields', async () => {
      const res = await patch(user.id, user.accessToken, { name: 'Renamed' });
      const after = expectData<UserBody>(res);
      expect(after).toMatchObject({ name: 'Renamed', email: user.email, role: 'user', version: 2 });
      expect(res.headers.etag).toBe(etag(2));

      const email = uniqueEmail('patched');
      expect(expectData<UserBody>(await patch(user.id, user.accessToken, { email }))).toMatchObject({
        name: 'Renamed',
        email,
        version: 3,
      });
    });

    it('goes through with If-Match equal to the current ETag', async () => {
      const current = await get(userUrl(user.id), user.accessToken);
      const res = await patch(user.id, user.accessToken, { name: 'Matched' }, current.headers.etag);
      expect(expectData<UserBody>(res)).toMatchObject({ name: 'Matched', version: 2 });
      expect(res.headers.etag).toBe(etag(2));
    });

    it('is 412 PRECONDITION_FAILED with a stale ETag, and nothing changes', async () => {
      await patch(user.id, user.accessToken, { name: 'Second' }).expect(200);
      const before = await readUser(user.id);
      const res = await patch(user.id, user.accessToken, { name: 'Lost Update' }, etag(1));
      expectError(res, 412, 'PRECONDITION_FAILED');
      expect(res.headers.etag).toBeUndefined();
      expect(await readUser(user.id)).toEqual(before);
    });

    it('is 412 with an If-Match that names no version of ours', async () => {
      expectError(await patch(user.id, user.accessToken, { name: 'X' }, '"abc"'), 412, 'PRECONDITION_FAILED');
      expect(await readUser(user.id)).toMatchObject({ name: 'Patch Person', version: 1 });
    });

    it('goes through with If-Match: * and without If-Match', async () => {
      expect(expectData<UserBody>(await patch(user.id, user.accessToken, { name: 'Star' }, '*'))).toMatchObject({
        name: 'Star',
        version: 2,
      });
      expect(expectData<UserBody>(await patch(user.id, user.accessToken, { name: 'Bare' }))).toMatchObject({
        name: 'Bare',
        version: 3,
      });
    });

    it('accepts a list of ETags that contains the current one', async () => {
      const res = await patch(user.id, user.accessToken, { name: 'Listed' }, `${etag(9)}, ${etag(1)}`);
      expect(expectData<UserBody>(res)).toMatchObject({ name: 'Listed', version: 2 });
    });

    it('of 10 parallel PATCHes with the same If-Match, exactly one wins and nine get 412', async () => {
      const names = Array.from({ length: 10 }, (_, i) => `Racer ${i}`);
      const results = await Promise.all(names.map((name) => patch(user.id, user.accessToken, { name }, etag(1))));
      const winners = results.filter((r) => r.status === 200);
      const losers = results.filter((r) => r.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(9);
      for (const loser of losers) expectError(loser, 412, 'PRECONDITION_FAILED');

      const won = expectData<UserBody>(winners[0]);
      expect(won.version).toBe(2);
      expect(await readUser(user.id)).toMatchObject({ name: won.name, version: 2 });
    });

    it('is 403 when a user who is not an admin sends a role', async () => {
      expectError(await patch(user.id, user.accessToken, { role: 'admin' }), 403, 'FORBIDDEN');
      expect(await readUser(user.id)).toMatchObject({ role: 'user', version: 1 });
    });

    it('validates the given fields', async () => {
      expectValidationFailed(await patch(user.id, user.accessToken, { name: '  ' }), ['name']);
      expectValidationFailed(await patch(user.id, user.accessToken, { email: 'nope' }), ['email']);
      expectValidationFailed(await patch(user.id, user.accessToken, { name: 42 }), ['name']);
      expectValidationFailed(await patch(user.id, user.accessToken, { role: 'root' }), ['role']);
      expectValidationFailed(await patch(user.id, user.accessToken, { version: 5 }), ['version']);
    });

    it('rejects null for a field (null is not "leave it out"), for users and admins alike', async () => {
      for (const body of [{ name: null }, { email: null }]) {
        expectValidationFailed(await patch(user.id, user.accessToken, body), Object.keys(body));
        expectValidationFailed(await patch(user.id, admin.accessToken, body), Object.keys(body));
      }
      expectValidationFailed(await patch(user.id, admin.accessToken, { role: null }), ['role']);
      expect(await readUser(user.id)).toMatchObject({
        name: 'Patch Person',
        email: user.email,
        role: 'user',
        version: 1,
      });
    });

    it('is 400, not 500, for a NUL character in the name, and changes nothing', async () => {
      expectError(await patch(user.id, user.accessToken, { name: 'Nul\u0000Byte' }), 400, 'VALIDATION_FAILED');
      expect(await readUser(user.id)).toMatchObject({ name: 'Patch Person', version: 1 });
    });

    it("is 404 for another user's id and 409 for a taken email", async () => {
      const other = await registerUser(t);
      expectError(await patch(other.id, user.accessToken, { name: 'Hijack' }), 404, 'NOT_FOUND');
      expectError(await patch(user.id, user.accessToken, { email: other.email }), 409, 'CONFLICT');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('a change of platform role', () => {
    const me = (accessToken: string) => get('/api/v1/auth/me', accessToken);
    const refresh = (refreshToken: string) => t.http().post('/api/v1/auth/refresh').send({ refreshToken });

    it('ends the sessions of the user; after signing in again the user has the new role', async () => {
      const user = await registerUser(t);
      expectData<UserBody>(await me(user.accessToken));
      const second = await login(t, user.email, user.password);

      const res = await t.http().patch(userUrl(user.id)).set(bearer(admin.accessToken)).send({ role: 'admin' });
      expect(expectData<UserBody>(res)).toMatchObject({ role: 'admin', version: 2 });

      // Every session of the user, not just one, and refresh tokens as well as access tokens.
      expectUnauthenticated(await me(user.accessToken));
      expectUnauthenticated(await me(second.accessToken));
      expectUnauthenticated(await refresh(user.refreshToken));

      const again = await login(t, user.email, user.password);
      expect(expectData<UserBody>(await me(again.accessToken))).toMatchObject({ id: user.id, role: 'admin' });
      expectList<UserBody>(await list(again.accessToken, {}));
    });

    it('works the other way: a demoted admin loses admin access at once', async () => {
      const email = uniqueEmail('demoted');
      const made = await createUser({ email, role: 'admin' });
      const session = await login(t, email, 'password-123');
      expectList<UserBody>(await list(session.accessToken, {}));

      const res = await t
        .http()
        .put(userUrl(made.id))
        .set(bearer(admin.accessToken))
        .send({ name: made.name, email, role: 'user' });
      expect(expectData<UserBody>(res)).toMatchObject({ role: 'user' });

      expectUnauthenticated(await list(session.accessToken, {}));
      const again = await login(t, email, 'password-123');
      expectError(await list(again.accessToken, {}), 403, 'FORBIDDEN');
    });

    it('does not end sessions when the role sent is the current one', async () => {
      const user = await registerUser(t);
      const res = await t
        .http()
        .put(userUrl(user.id))
        .set(bearer(admin.accessToken))
        .send({ name: 'Same Role', email: user.email, role: 'user' });
      expect(expectData<UserBody>(res)).toMatchObject({ role: 'user', name: 'Same Role' });
      expectData<UserBody>(await me(user.accessToken));
    });

    it('other edits do not end sessions either', async () => {
      const user = await registerUser(t);
      await t.http().patch(userUrl(user.id)).set(bearer(user.accessToken)).send({ name: 'Still Here' }).expect(200);
      expect(expectData<UserBody>(await me(user.accessToken))).toMatchObject({ name: 'Still Here' });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DELETE /users/{id}', () => {
    const del = (id: string, accessToken: string, ifMatch?: string) => {
      const req = t.http().delete(userUrl(id)).set(bearer(accessToken));
      return ifMatch === undefined ? req : req.set('If-Match', ifMatch);
    };

    it('deletes oneself: 204, then no sign-in, no old tokens, and the email is free again', async () => {
      const user = await registerUser(t);
      expectNoContent(await del(user.id, user.accessToken));

      expectUnauthenticated(
        await t.http().post('/api/v1/auth/login').send({ email: user.email, password: user.password }),
      );
      expectUnauthenticated(await get('/api/v1/auth/me', user.accessToken));
      expectUnauthenticated(await t.http().post('/api/v1/auth/refresh').send({ refreshToken: user.refreshToken }));
      expectError(await get(userUrl(user.id), admin.accessToken), 404, 'NOT_FOUND');
      expect(expectList<UserBody>(await list(admin.accessToken, { q: user.email })).data).toEqual([]);

      const again = await registerUser(t, { email: user.email, password: 'another-password' });
      expect(again.id).not.toBe(user.id);
      await login(t, user.email, 'another-password');
    });

    it('lets an admin delete another user', async () => {
      const victim = await registerUser(t);
      expectNoContent(await del(victim.id, admin.accessToken));
      expectError(await get(userUrl(victim.id), admin.accessToken), 404, 'NOT_FOUND');
      expectUnauthenticated(await get('/api/v1/auth/me', victim.accessToken));
    });

    it('is 404 for someone else when the caller is not an admin, and deletes nothing', async () => {
      const caller = await registerUser(t);
      const target = await registerUser(t);
      expectError(await del(target.id, caller.accessToken), 404, 'NOT_FOUND');
      expectData<UserBody>(await get(userUrl(target.id), target.accessToken));
    });

    it('is 412 with a stale If-Match and deletes nothing; the current ETag deletes', async () => {
      const user = await registerUser(t);
      await t.http().patch(userUrl(user.id)).set(bearer(user.accessToken)).send({ name: 'Version Two' }).expect(200);
      expectError(await del(user.id, user.accessToken, etag(1)), 412, 'PRECONDITION_FAILED');
      expectData<UserBody>(await get(userUrl(user.id), user.accessToken));
      expectNoContent(await del(user.id, user.accessToken, etag(2)));
    });

    it('is 404 the second time, and for an unknown UUID', async () => {
      const user = await createUser();
      expectNoContent(await del(user.id, admin.accessToken));
      expectError(await del(user.id, admin.accessToken), 404, 'NOT_FOUND');
      expectError(await del(randomUUID(), admin.accessToken), 404, 'NOT_FOUND');
    });

    it('is 400 for an id that is not a UUID', async () => {
      expectValidationFailed(await del('nope', admin.accessToken), ['id']);
    });

    it('does not break paging across the deleted user', async () => {
      const run = token();
      const made: UserBody[] = [];
      for (const name of ['Gap A', 'Gap B', 'Gap C']) {
        made.push(await createUser({ name, email: `gap-${run}-${name.slice(-1).toLowerCase()}@example.com` }));
      }
      const first = expectList<UserBody>(await list(admin.accessToken, { q: `gap-${run}`, sort: 'name', limit: 1 }));
      expect(first.data.map((u) => u.id)).toEqual([made[0].id]);
      expectNoContent(await del(made[0].id, admin.accessToken));
      const rest = expectList<UserBody>(
        await list(admin.accessToken, { q: `gap-${run}`, sort: 'name', limit: 5, cursor: first.page.nextCursor! }),
      );
      expect(rest.data.map((u) => u.id)).toEqual([made[1].id, made[2].id]);
    });
  });
});

// ---------------------------------------------------------------------------------------------

describe('admin bootstrap from ADMIN_EMAIL / ADMIN_PASSWORD', () => {
  const password = 'bootstrap-password-1';

  it('creates the admin at boot; a second instance on the same database neither fails nor duplicates it', async () => {
    const email = `boot-${token()}@example.com`;
    const env = { ADMIN_EMAIL: email.toUpperCase(), ADMIN_PASSWORD: password };
    const first = await createTestApp({ env });
    try {
      const { accessToken } = await login(first, email, password);
      const res = await first.http().get(USERS).query({ role: 'admin' }).set(bearer(accessToken));
      expectStatus(res, 200);
      expect(res.body.data).toEqual([expect.objectContaining({ email, role: 'admin', version: 1 })]);

      const second = await createTestApp({ env, databaseUrl: first.databaseUrl });
      try {
        const [{ count }] = await second.dataSource.query('SELECT count(*)::int AS count FROM users WHERE email = $1', [
          email,
        ]);
        expect(count).toBe(1);
        const again = await login(second, email, password);
        const listed = await second.http().get(USERS).set(bearer(again.accessToken));
        expectStatus(listed, 200);
        expect(listed.body.data).toEqual([expect.objectContaining({ email, role: 'admin', version: 1 })]);
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });

  it('two instances booting at once make one admin between them', async () => {
    const email = `boot-race-${token()}@example.com`;
    const env = { ADMIN_EMAIL: email, ADMIN_PASSWORD: password };
    const database = await createTestDatabase();
    try {
      const booted = await Promise.allSettled([
        createTestApp({ env, databaseUrl: database.url }),
        createTestApp({ env, databaseUrl: database.url }),
      ]);
      const apps = booted.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
      try {
        expect(booted.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled']);
        const rows: { role: string }[] = await apps[0].dataSource.query('SELECT role FROM users WHERE email = $1', [
          email,
        ]);
        expect(rows).toEqual([{ role: 'admin' }]);
        await login(apps[1], email, password);
      } finally {
        await Promise.all(apps.map((app) => app.close()));
      }
    } finally {
      await database.drop();
    }
  });

  it('ensureAdmin called twice at the same moment creates one admin and fails neither call', async () => {
    // What two instances booting together do, made deterministic: both look the email up before
    // either inserts, so one insert hits the unique index.
    const app = await createTestApp();
    try {
      const email = `boot-same-moment-${token()}@example.com`;
      const users = app.app.get(UsersService);
      const outcomes = await Promise.all([users.ensureAdmin(email, password), users.ensureAdmin(email, password)]);
      expect(outcomes.sort()).toEqual(['created', 'exists']);
      const rows: { role: string }[] = await app.dataSource.query('SELECT role FROM users WHERE email = $1', [email]);
      expect(rows).toEqual([{ role: 'admin' }]);
      await login(app, email, password);
    } finally {
      await app.close();
    }
  });

  it('leaves an existing user with that email as it is', async () => {
    const first = await createTestApp();
    try {
      const existing = await registerUser(first, { password: 'user-password-1' });
      const second = await createTestApp({
        env: { ADMIN_EMAIL: existing.email, ADMIN_PASSWORD: password },
        databaseUrl: first.databaseUrl,
      });
      try {
        const rows: { role: string }[] = await second.dataSource.query('SELECT role FROM users WHERE email = $1', [
          existing.email,
        ]);
        expect(rows).toEqual([{ role: 'user' }]);
        await login(second, existing.email, 'user-password-1');
      } finally {
        await second.close();
      }
    } finally {
      await first.close();
    }
  });
});
