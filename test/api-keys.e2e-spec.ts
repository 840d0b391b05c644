import type { Response } from 'supertest';
import { ApiKeyAuthenticator } from '../src/api-keys/api-key-authenticator';
import {
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
import { client, createRoleOrg, idemKey, RoleOrg } from './support/pt-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser } from './support/users';
import { verified, WebhookReceiver } from './support/webhook-receiver';

const KEY_FIELDS = [
  'createdAt',
  'createdBy',
  'expiresAt',
  'id',
  'lastUsedAt',
  'name',
  'orgId',
  'prefix',
  'revokedAt',
  'role',
];
const TOKEN = /^tl_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

interface KeyBody {
  id: string;
  orgId: string;
  name: string;
  role: string;
  prefix: string;
  createdBy: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
  token?: string;
}

const keysUrl = (orgId: string): string => `/api/v1/orgs/${orgId}/api-keys`;
const keyUrl = (id: string): string => `/api/v1/api-keys/${id}`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 20 ms until it returns true; how long that took (ms), or fails after `limitMs`. */
async function within(limitMs: number, probe: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < limitMs) {
    if (await probe()) return Date.now() - started;
    await sleep(20);
  }
  throw new Error(`not within ${limitMs} ms`);
}

describe('API keys (§18)', () => {
  let t: TestApp;
  let org: RoleOrg;
  let other: RoleOrg;
  let projectId: string;
  let taskId: string;
  let otherProjectId: string;
  let otherTaskId: string;

  /** The API with an API key as the credential. */
  const withKey = (token: string) => ({
    get: (url: string) => t.http().get(url).set(bearer(token)),
    post: (url: string, body: object) => t.http().post(url).set(bearer(token)).send(body),
    patch: (url: string, body: object) => t.http().patch(url).set(bearer(token)).send(body),
    put: (url: string, body: object) => t.http().put(url).set(bearer(token)).send(body),
    delete: (url: string) => t.http().delete(url).set(bearer(token)),
  });

  async function createKey(
    by: SignedInUser,
    orgId: string,
    body: Record<string, unknown> = { name: 'Integration', role: 'member' },
  ): Promise<KeyBody & { token: string }> {
    return expectData<KeyBody & { token: string }>(await client(t, by).post(keysUrl(orgId), body), 201);
  }

  beforeAll(async () => {
    t = await createTestApp({ captureLogs: true });
    [org, other] = await Promise.all([createRoleOrg(t, 'Keys Org'), createRoleOrg(t, 'Other Org')]);
    const owner = client(t, org.users.owner);
    projectId = expectData<{ id: string }>(
      await owner.post(`/api/v1/orgs/${org.orgId}/projects`, { key: 'KEY', name: 'Keys' }),
      201,
    ).id;
    taskId = expectData<{ id: string }>(
      await owner.post(`/api/v1/projects/${projectId}/tasks`, { title: 'T' }),
      201,
    ).id;
    const otherOwner = client(t, other.users.owner);
    otherProjectId = expectData<{ id: string }>(
      await otherOwner.post(`/api/v1/orgs/${other.orgId}/projects`, { key: 'OTH', name: 'Other' }),
      201,
    ).id;
    otherTaskId = expectData<{ id: string }>(
      await otherOwner.post(`/api/v1/projects/${otherProjectId}/tasks`, { title: 'Theirs' }),
      201,
    ).id;
  });
  afterAll(() => t.close());

  describe('POST /orgs/{orgId}/api-keys', () => {
    it('creates a key for an admin: 201, Location, the token once, audited', async () => {
      const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
      const res = await client(t, org.users.admin).post(keysUrl(org.orgId), {
        name: '  CI  ',
        role: 'member',
        expiresAt,
      });
      const key = expectData<KeyBody>(res, 201);
      expect(Object.keys(key).sort()).toEqual([...KEY_FIELDS, 'token'].sort());
      expect(key).toMatchObject({
        id: expect.stringMatching(UUID),
        orgId: org.orgId,
        name: 'CI',
        role: 'member',
        createdBy: org.users.admin.id,
        createdAt: expect.stringMatching(ISO_UTC),
        expiresAt,
        lastUsedAt: null,
        revokedAt: null,
      });
      expect(key.token).toMatch(TOKEN);
      expect(TOKEN.exec(key.token!)![1]).toBe(key.prefix);
      expect(res.headers.location).toBe(`/api/v1/api-keys/${key.id}`);
      expect(res.headers['cache-control']).toBe('no-store');

      // Stored hashed: neither the token nor its secret is in the table.
      const [row]: { hash: Buffer; text: string }[] = await t.dataSource.query(
        'SELECT secret_hash AS hash, row_to_json(k)::text AS text FROM api_keys k WHERE id = $1',
        [key.id],
      );
      expect(row.hash).toHaveLength(32);
      expect(row.text).not.toContain(key.token!.slice(16));

      const [event]: { action: string; actor_type: string; actor_id: string; changes: object }[] =
        await t.dataSource.query('SELECT * FROM audit_events WHERE entity_id = $1', [key.id]);
      expect(event).toMatchObject({ action: 'api_key.created', actor_type: 'user', actor_id: org.users.admin.id });
      expect(JSON.stringify(event.changes)).not.toContain(key.token!.slice(16));
    });

    it('never expires without expiresAt (or with null)', async () => {
      expect((await createKey(org.users.owner, org.orgId, { name: 'Forever', role: 'viewer' })).expiresAt).toBeNull();
      expect(
        (await createKey(org.users.owner, org.orgId, { name: 'Null', role: 'viewer', expiresAt: null })).expiresAt,
      ).toBeNull();
    });

    it.each([
      [{ role: 'member' }, ['name']],
      [{ name: '   ', role: 'member' }, ['name']],
      [{ name: 'x'.repeat(101), role: 'member' }, ['name']],
      [{ name: 'Owner key', role: 'owner' }, ['role']],
      [{ name: 'No role' }, ['role']],
      [{ name: 'Past', role: 'member', expiresAt: '2020-01-01T00:00:00Z' }, ['expiresAt']],
      [{ name: 'Bad date', role: 'member', expiresAt: 'tomorrow' }, ['expiresAt']],
      [{ name: 'Number', role: 'member', expiresAt: 1893456000 }, ['expiresAt']],
      [{ name: 'Extra', role: 'member', scopes: ['all'] }, ['scopes']],
    ])('400 for %j', async (body, fields) => {
      expectValidationFailed(await client(t, org.users.admin).post(keysUrl(org.orgId), body), fields);
    });

    it('401 without a token, 403 for members and viewers, 404 for outsiders and unknown orgs', async () => {
      const body = { name: 'Nope', role: 'viewer' };
      expectUnauthenticated(await t.http().post(keysUrl(org.orgId)).send(body));
      expectError(await client(t, org.users.member).post(keysUrl(org.orgId), body), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.viewer).post(keysUrl(org.orgId), body), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.outsider).post(keysUrl(org.orgId), body), 404, 'NOT_FOUND');
      expectError(await client(t, org.users.admin).post(keysUrl(other.orgId), body), 404, 'NOT_FOUND');
      expectValidationFailed(await client(t, org.users.admin).post(keysUrl('not-a-uuid'), body), ['orgId']);
    });
  });

  describe('GET /orgs/{orgId}/api-keys and GET /api-keys/{id}', () => {
    it('lists the org’s keys newest first, never with a token, paged', async () => {
      const a = await createKey(org.users.admin, org.orgId, { name: 'List A', role: 'viewer' });
      const b = await createKey(org.users.admin, org.orgId, { name: 'List B', role: 'viewer' });
      const { data, page } = expectList<KeyBody>(await client(t, org.users.admin).get(`${keysUrl(org.orgId)}?limit=2`));
      expect(data.map((k) => k.id)).toEqual([b.id, a.id]);
      for (const key of data) expect(Object.keys(key).sort()).toEqual(KEY_FIELDS);
      expect(page.nextCursor).toEqual(expect.any(String));
      const next = expectItems<KeyBody>(
        await client(t, org.users.admin).get(`${keysUrl(org.orgId)}?limit=2&cursor=${page.nextCursor}`),
      );
      expect(next.map((k) => k.id)).not.toContain(a.id);
      expect(
        expectItems<KeyBody>(await client(t, org.users.admin).get(`${keysUrl(org.orgId)}?sort=createdAt&limit=100`))[0]
          .createdAt <= a.createdAt,
      ).toBe(true);
      expectError(
        await client(t, org.users.admin).get(`${keysUrl(org.orgId)}?cursor=${page.nextCursor}&sort=createdAt`),
        400,
        'INVALID_CURSOR',
      );
      expectValidationFailed(await client(t, org.users.admin).get(`${keysUrl(org.orgId)}?limit=0`), ['limit']);
      expectValidationFailed(await client(t, org.users.admin).get(`${keysUrl(org.orgId)}?sort=name`), ['sort']);
    });

    it('gets one key without its token', async () => {
      const created = await createKey(org.users.admin, org.orgId);
      const { token, ...withoutToken } = created;
      const res = await client(t, org.users.owner).get(keyUrl(created.id));
      expect(expectData<KeyBody>(res)).toEqual(withoutToken);
      expect(res.text).not.toContain(token.slice(16));
    });

    it('403 for members and viewers, 404 for outsiders, another org’s admin and unknown ids, 401 without a token', async () => {
      const key = await createKey(org.users.admin, org.orgId);
      expectUnauthenticated(await t.http().get(keysUrl(org.orgId)));
      expectUnauthenticated(await t.http().get(keyUrl(key.id)));
      for (const role of ['member', 'viewer'] as const) {
        expectError(await client(t, org.users[role]).get(keysUrl(org.orgId)), 403, 'FORBIDDEN');
        expectError(await client(t, org.users[role]).get(keyUrl(key.id)), 403, 'FORBIDDEN');
      }
      expectError(await client(t, org.users.outsider).get(keysUrl(org.orgId)), 404, 'NOT_FOUND');
      expectError(await client(t, other.users.admin).get(keyUrl(key.id)), 404, 'NOT_FOUND');
      expectError(
        await client(t, org.users.admin).get(keyUrl('00000000-0000-4000-8000-000000000000')),
        404,
        'NOT_FOUND',
      );
      expectValidationFailed(await client(t, org.users.admin).get(keyUrl('nope')), ['apiKeyId']);
    });
  });

  describe('a key at work', () => {
    it('acts with its role inside its org: a viewer key reads, a member key writes as itself', async () => {
      const viewer = withKey((await createKey(org.users.admin, org.orgId, { name: 'Reader', role: 'viewer' })).token);
      expectData(await viewer.get(`/api/v1/tasks/${taskId}`));
      expectData(await viewer.get(`/api/v1/orgs/${org.orgId}`));
      expectItems(await viewer.get(`/api/v1/projects/${projectId}/tasks`));
      expectItems(await viewer.get(`/api/v1/orgs/${org.orgId}/members`));
      expectError(await viewer.post(`/api/v1/projects/${projectId}/tasks`, { title: 'No' }), 403, 'FORBIDDEN');
      expectError(await viewer.get(`/api/v1/orgs/${org.orgId}/audit-events`), 403, 'FORBIDDEN');

      const memberKey = await createKey(org.users.admin, org.orgId, { name: 'Bot', role: 'member' });
      const member = withKey(memberKey.token);
      const task = expectData<{ id: string; createdBy: string }>(
        await member.post(`/api/v1/projects/${projectId}/tasks`, { title: 'Opened by CI' }),
        201,
      );
      expect(task.createdBy).toBe(memberKey.id);
      const comment = expectData<{ id: string; authorId: string }>(
        await member.post(`/api/v1/tasks/${task.id}/comments`, { body: 'Build passed' }),
        201,
      );
      expect(comment.authorId).toBe(memberKey.id);
      // Its own comment is its own to edit; a person's is not.
      expectData(await member.patch(`/api/v1/comments/${comment.id}`, { body: 'Build passed (edited)' }));
      const theirs = expectData<{ id: string }>(
        await client(t, org.users.member).post(`/api/v1/tasks/${task.id}/comments`, { body: 'Mine' }),
        201,
      );
      expectError(await member.patch(`/api/v1/comments/${theirs.id}`, { body: 'Not yours' }), 403, 'FORBIDDEN');
      expectError(await member.delete(`/api/v1/projects/${projectId}`), 403, 'FORBIDDEN');
      // A key is nobody's assignee: a 400 naming the field, for the key itself and for a person's write.
      expectValidationFailed(await member.patch(`/api/v1/tasks/${task.id}`, { assigneeId: memberKey.id }), [
        'assigneeId',
      ]);
      expectValidationFailed(
        await client(t, org.users.member).post(`/api/v1/projects/${projectId}/tasks`, {
          title: 'Assigned to a key',
          assigneeId: memberKey.id,
        }),
        ['assigneeId'],
      );
      expectNoContent(await member.delete(`/api/v1/tasks/${task.id}`));
    });

    it('audit events say the key acted: actorType apiKey with its id, filterable', async () => {
      const key = await createKey(org.users.admin, org.orgId, { name: 'Audited', role: 'admin' });
      const admin = withKey(key.token);
      const project = expectData<{ id: string }>(
        await admin.post(`/api/v1/orgs/${org.orgId}/projects`, { key: 'BYKEY', name: 'By key' }),
        201,
      );
      const events = expectItems<{ actorType: string; actorId: string; action: string; entityId: string }>(
        await admin.get(`/api/v1/orgs/${org.orgId}/audit-events?actorType=apiKey&actorId=${key.id}`),
      );
      expect(events).toEqual([
        expect.objectContaining({
          action: 'project.created',
          entityId: project.id,
          actorType: 'apiKey',
          actorId: key.id,
        }),
      ]);
      const people = expectItems<{ actorType: string }>(
        await client(t, org.users.owner).get(`/api/v1/orgs/${org.orgId}/audit-events?actorType=user&limit=100`),
      );
      expect(people.length).toBeGreaterThan(0);
      expect(new Set(people.map((e) => e.actorType))).toEqual(new Set(['user']));
      expectValidationFailed(
        await client(t, org.users.owner).get(`/api/v1/orgs/${org.orgId}/audit-events?actorType=robot`),
        ['actorType'],
      );
    });

    it('replays Idempotency-Key requests per key', async () => {
      const { token } = await createKey(org.users.admin, org.orgId);
      const idempotencyKey = idemKey();
      const send = () =>
        t
          .http()
          .post(`/api/v1/projects/${projectId}/tasks`)
          .set(bearer(token))
          .set('Idempotency-Key', idempotencyKey)
          .send({ title: 'Once' });
      const first = expectData<{ id: string }>(await send(), 201);
      const again = await send();
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(expectData<{ id: string }>(again, 201).id).toBe(first.id);
    });

    it('is a 404 for everything outside its org, and lists only its org', async () => {
      const admin = withKey((await createKey(org.users.admin, org.orgId, { name: 'Fenced', role: 'admin' })).token);
      expectError(await admin.get(`/api/v1/orgs/${other.orgId}`), 404, 'NOT_FOUND');
      expectError(await admin.get(`/api/v1/projects/${otherProjectId}`), 404, 'NOT_FOUND');
      expectError(await admin.get(`/api/v1/tasks/${otherTaskId}`), 404, 'NOT_FOUND');
      expectError(await admin.patch(`/api/v1/tasks/${otherTaskId}`, { title: 'x' }), 404, 'NOT_FOUND');
      expectError(await admin.get(`/api/v1/tasks/${otherTaskId}/comments`), 404, 'NOT_FOUND');
      expectError(await admin.get(`/api/v1/orgs/${other.orgId}/audit-events`), 404, 'NOT_FOUND');
      const orgs = expectItems<{ id: string }>(await admin.get('/api/v1/orgs'));
      expect(orgs.map((o) => o.id)).toEqual([org.orgId]);
    });

    it('never manages keys, members, invitations or webhooks, never creates orgs, never reaches /auth or /users', async () => {
      const admin = withKey((await createKey(org.users.admin, org.orgId, { name: 'Admin key', role: 'admin' })).token);
      const someKey = await createKey(org.users.admin, org.orgId, { name: 'Target', role: 'viewer' });
      const forbidden: Array<[string, Response]> = [
        ['create key', await admin.post(keysUrl(org.orgId), { name: 'Child', role: 'viewer' })],
        ['list keys', await admin.get(keysUrl(org.orgId))],
        ['get key', await admin.get(keyUrl(someKey.id))],
        ['revoke key', await admin.delete(keyUrl(someKey.id))],
        [
          'add member',
          await admin.post(`/api/v1/orgs/${org.orgId}/members`, { email: org.users.outsider.email, role: 'viewer' }),
        ],
        [
          'change role',
          await admin.patch(`/api/v1/orgs/${org.orgId}/members/${org.users.viewer.id}`, { role: 'member' }),
        ],
        ['remove member', await admin.delete(`/api/v1/orgs/${org.orgId}/members/${org.users.viewer.id}`)],
        [
          'invite',
          await admin.post(`/api/v1/orgs/${org.orgId}/invitations`, { email: 'new@example.com', role: 'viewer' }),
        ],
        ['list invitations', await admin.get(`/api/v1/orgs/${org.orgId}/invitations`)],
        ['list webhooks', await admin.get(`/api/v1/orgs/${org.orgId}/webhooks`)],
        [
          'create webhook',
          await admin.post(`/api/v1/orgs/${org.orgId}/webhooks`, { url: 'https://example.com/h', events: ['*'] }),
        ],
        ['create org', await admin.post('/api/v1/orgs', { name: 'Key org' })],
        ['users', await admin.get(`/api/v1/users/${org.users.admin.id}`)],
        ['sessions', await admin.get('/api/v1/auth/sessions')],
        [
          'change password',
          await admin.post('/api/v1/auth/password', { currentPassword: 'x'.repeat(8), newPassword: 'y'.repeat(12) }),
        ],
      ];
      for (const [what, res] of forbidden) {
        expect({ what, status: res.status }).toEqual({ what, status: 403 });
        expectError(res, 403, 'FORBIDDEN');
      }
      expectUnauthenticated(await admin.get('/api/v1/auth/me'));
      // Nothing changed.
      expect(expectData<KeyBody>(await client(t, org.users.admin).get(keyUrl(someKey.id))).revokedAt).toBeNull();
      const viewer = await client(t, org.users.admin).get(`/api/v1/orgs/${org.orgId}/members/${org.users.viewer.id}`);
      expect(expectData<{ role: string }>(viewer).role).toBe('viewer');
    });

    it('the request log names the key, never its token', async () => {
      const key = await createKey(org.users.admin, org.orgId);
      const res = await withKey(key.token).get(`/api/v1/tasks/${taskId}`).expect(200);
      const line = t.logs.find((l) => (l.req as { id?: string } | undefined)?.id === res.headers['x-request-id']);
      expect(line).toMatchObject({ apiKeyId: key.id, res: { statusCode: 200 } });
      expect(line).not.toHaveProperty('userId');
      expect(JSON.stringify(t.logs)).not.toContain(key.token.slice(16));
    });

    it('401 for a malformed key, an unknown prefix and a wrong secret', async () => {
      const key = await createKey(org.users.admin, org.orgId);
      const wrongSecret = `${key.token.slice(0, 16)}${'A'.repeat(43)}`;
      const unknownPrefix = `tl_000000000000_${key.token.slice(16)}`;
      for (const token of ['tl_', 'tl_nothex000000_x', `${key.token}x`, wrongSecret, unknownPrefix]) {
        expectUnauthenticated(await t.http().get(`/api/v1/tasks/${taskId}`).set(bearer(token)));
      }
      expectData(await withKey(key.token).get(`/api/v1/tasks/${taskId}`));
    });
  });

  describe('DELETE /api-keys/{id}', () => {
    it('revokes: 204, the key stops working at once, audited; revoking again is a 204 that changes nothing', async () => {
      const key = await createKey(org.users.admin, org.orgId);
      const use = () => t.http().get(`/api/v1/tasks/${taskId}`).set(bearer(key.token));
      expectData(await use());
      expectNoContent(await client(t, org.users.admin).delete(keyUrl(key.id)));
      expectUnauthenticated(await use());
      const revoked = expectData<KeyBody>(await client(t, org.users.admin).get(keyUrl(key.id)));
      expect(revoked.revokedAt).toMatch(ISO_UTC);
      expectNoContent(await client(t, org.users.owner).delete(keyUrl(key.id)));
      expect(expectData<KeyBody>(await client(t, org.users.admin).get(keyUrl(key.id))).revokedAt).toBe(
        revoked.revokedAt,
      );
      const events: { action: string }[] = await t.dataSource.query(
        "SELECT action FROM audit_events WHERE entity_id = $1 AND action = 'api_key.revoked'",
        [key.id],
      );
      expect(events).toHaveLength(1);
    });

    it('401 without a token, 403 for members and viewers, 404 across orgs and for unknown ids, 400 for a bad id', async () => {
      const key = await createKey(org.users.admin, org.orgId);
      expectUnauthenticated(await t.http().delete(keyUrl(key.id)));
      expectError(await client(t, org.users.member).delete(keyUrl(key.id)), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.viewer).delete(keyUrl(key.id)), 403, 'FORBIDDEN');
      expectError(await client(t, org.users.outsider).delete(keyUrl(key.id)), 404, 'NOT_FOUND');
      expectError(await client(t, other.users.owner).delete(keyUrl(key.id)), 404, 'NOT_FOUND');
      expectError(
        await client(t, org.users.admin).delete(keyUrl('00000000-0000-4000-8000-000000000000')),
        404,
        'NOT_FOUND',
      );
      expectValidationFailed(await client(t, org.users.admin).delete(keyUrl('123')), ['apiKeyId']);
      expectData(await withKey(key.token).get(`/api/v1/tasks/${taskId}`));
    });

    it('reaches another instance within a second, although that instance had the key in memory', async () => {
      const second = await createTestApp({ databaseUrl: t.databaseUrl });
      try {
        const key = await createKey(org.users.admin, org.orgId);
        const useOnSecond = () => second.http().get(`/api/v1/tasks/${taskId}`).set(bearer(key.token));
        expectData(await useOnSecond()); // read once: from now on checked from its memory
        expectNoContent(await client(t, org.users.admin).delete(keyUrl(key.id)));
        const took = await within(1000, async () => (await useOnSecond()).status === 401);
        expect(took).toBeLessThan(1000);
        expectUnauthenticated(await useOnSecond());
      } finally {
        await second.close();
      }
    });
  });

  it('an expired key is a 401, and the database agrees (no access through a lookup either)', async () => {
    const key = await createKey(org.users.admin, org.orgId, {
      name: 'Short-lived',
      role: 'member',
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expectData(await withKey(key.token).get(`/api/v1/tasks/${taskId}`));
    await sleep(1600);
    expectUnauthenticated(await withKey(key.token).get(`/api/v1/tasks/${taskId}`));
    const [row]: { n: number }[] = await t.dataSource.query(
      'SELECT count(*)::int AS n FROM org_principals WHERE principal_id = $1',
      [key.id],
    );
    expect(row.n).toBe(0);
  });

  it('lastUsedAt: this instance shows its own uses at once, and writes them without a write per request', async () => {
    const key = await createKey(org.users.admin, org.orgId);
    const before = Date.now();
    for (let i = 0; i < 5; i++) expectData(await withKey(key.token).get(`/api/v1/tasks/${taskId}`));
    const stored = async (): Promise<Date | null> =>
      (
        (await t.dataSource.query('SELECT last_used_at FROM api_keys WHERE id = $1', [key.id])) as {
          last_used_at: Date | null;
        }[]
      )[0].last_used_at;
    expect(await stored()).toBeNull(); // nothing written per request
    const shown = expectData<KeyBody>(await client(t, org.users.admin).get(keyUrl(key.id))).lastUsedAt!;
    expect(Date.parse(shown)).toBeGreaterThanOrEqual(before - 5);
    await t.app.get(ApiKeyAuthenticator).flush();
    expect((await stored())!.toISOString()).toBe(shown);
  });

  it('webhook events say which kind acted, and a new key’s event never carries its token', async () => {
    const receiver = await new WebhookReceiver().start();
    try {
      const hook = expectData<{ id: string; secret: string }>(
        await client(t, org.users.owner).post(`/api/v1/orgs/${org.orgId}/webhooks`, {
          url: `${receiver.url}/events`,
          events: ['api_key.created', 'api_key.revoked', 'task.created'],
        }),
        201,
      );
      const key = await createKey(org.users.admin, org.orgId, { name: 'Announced', role: 'member' });
      const task = expectData<{ id: string }>(
        await withKey(key.token).post(`/api/v1/projects/${projectId}/tasks`, { title: 'By a key' }),
        201,
      );
      expectNoContent(await client(t, org.users.admin).delete(keyUrl(key.id)));
      const hooks = await receiver.waitFor(3);
      const events = hooks.map((h) =>
        verified<{ type: string; actor: object; data: Record<string, unknown> }>(h, hook.secret),
      );
      const byType = Object.fromEntries(events.map((e) => [e.type, e]));
      expect(byType['api_key.created']).toMatchObject({
        actor: { type: 'user', id: org.users.admin.id },
        data: { id: key.id, name: 'Announced', role: 'member', prefix: key.prefix, revokedAt: null },
      });
      expect(Object.keys(byType['api_key.created'].data).sort()).toEqual(KEY_FIELDS);
      expect(byType['task.created']).toMatchObject({ actor: { type: 'apiKey', id: key.id }, data: { id: task.id } });
      expect(byType['api_key.revoked'].data).toMatchObject({ id: key.id, revokedAt: expect.stringMatching(ISO_UTC) });
      for (const h of hooks) expect(h.body).not.toContain(key.token.slice(16));
      expectNoContent(await client(t, org.users.owner).delete(`/api/v1/webhooks/${hook.id}`));
    } finally {
      await receiver.stop();
    }
  });

  it('a key dies with its org, on every instance', async () => {
    const owner = await registerUser(t);
    const orgId = expectData<{ id: string }>(
      await client(t, owner).post('/api/v1/orgs', { name: 'Short-lived org' }),
      201,
    ).id;
    const key = await createKey(owner, orgId, { name: 'Orphan', role: 'admin' });
    expectData(await withKey(key.token).get(`/api/v1/orgs/${orgId}`));
    expectNoContent(await client(t, owner).delete(`/api/v1/orgs/${orgId}`));
    await within(1000, async () => (await withKey(key.token).get('/api/v1/orgs')).status === 401);
    expectUnauthenticated(await withKey(key.token).get(`/api/v1/orgs/${orgId}`));
  });
});
