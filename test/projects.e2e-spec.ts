import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { PROJECT_KEYS, ProjectBody, TaskBody } from './support/bodies';
import {
  etag,
  expectData,
  expectError,
  expectItems,
  expectNoContent,
  expectValidationFailed,
  ISO_UTC,
  UUID,
} from './support/envelope';
import {
  auditEvents,
  Caller,
  client,
  createOrg,
  createRoleOrg,
  freshKey,
  idemKey,
  RoleOrg,
  ROLES,
} from './support/pt-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser, token } from './support/users';

// Projects (API.md §8), with the envelope (§2), status codes (§3), conventions (§4: ETag and
// If-Match, Idempotency-Key, strict bodies), tenancy (§7) and the audit log (§12).

const projectUrl = (id: string): string => `/api/v1/projects/${id}`;
const orgProjectsUrl = (orgId: string): string => `/api/v1/orgs/${orgId}/projects`;

describe('projects', () => {
  let t: TestApp;
  let org: RoleOrg;
  let owner: SignedInUser;
  /** Owner of another org (B), not a member of org A. */
  let otherOwner: SignedInUser;
  let otherOrgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    org = await createRoleOrg(t, 'Org A');
    owner = org.users.owner;
    otherOwner = await registerUser(t, { name: 'Owner of B' });
    otherOrgId = await createOrg(t, otherOwner, 'Org B');
  });
  afterAll(() => t.close());

  const as = (user: SignedInUser) => client(t, user);

  async function createProject(
    body: Partial<{ key: string; name: string; description: string }> = {},
    user: SignedInUser = owner,
    orgId: string = org.orgId,
  ): Promise<ProjectBody> {
    const res = await as(user).post(orgProjectsUrl(orgId), { key: freshKey(), name: 'A project', ...body });
    return expectData<ProjectBody>(res, 201);
  }

  const readProject = async (id: string): Promise<ProjectBody> =>
    expectData<ProjectBody>(await as(owner).get(projectUrl(id)));

  const countProjects = async (where: string, params: unknown[]): Promise<number> => {
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM projects WHERE ${where}`, params);
    return count;
  };

  // -------------------------------------------------------------------------------------------
  describe('POST /orgs/{orgId}/projects', () => {
    it('creates a project: 201, Location, ETag, the contract shape and defaults', async () => {
      const res = await as(owner).post(orgProjectsUrl(org.orgId), { key: 'ENG', name: '  Engineering  ' });
      const project = expectData<ProjectBody>(res, 201);
      expect(Object.keys(project).sort()).toEqual(PROJECT_KEYS);
      expect(project).toEqual({
        id: expect.stringMatching(UUID),
        orgId: org.orgId,
        key: 'ENG',
        name: 'Engineering',
        description: '',
        archived: false,
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
        version: 1,
      });
      expect(res.headers.location).toBe(`/api/v1/projects/${project.id}`);
      expect(res.headers.etag).toBe(etag(1));
      expect(res.headers['idempotent-replayed']).toBeUndefined();

      const read = await as(org.users.viewer).get(res.headers.location);
      expect(expectData<ProjectBody>(read)).toEqual(project);
      expect(read.headers.etag).toBe(etag(1));
    });

    it('keeps the given description', async () => {
      const project = await createProject({ description: 'What we build' });
      expect(project.description).toBe('What we build');
    });

    it.each(['AB', 'A1', '42', 'ABCDEFGHIJ', 'Z9Y8X7W6V5'])('accepts the key %j', async (key) => {
      const project = await createProject({ key });
      expect(project.key).toBe(key);
    });

    it.each([
      ['lower case', 'eng'],
      ['mixed case', 'Eng'],
      ['one character', 'A'],
      ['eleven characters', 'ABCDEFGHIJK'],
      ['a hyphen', 'EN-G'],
      ['a space', 'EN G'],
      ['an underscore', 'EN_G'],
      ['a non-ASCII letter', 'ÉNG'],
      ['empty', ''],
      ['a number', 12],
      ['null', null],
    ])('rejects a key with %s: 400 naming key, nothing created', async (_label, key) => {
      const name = `bad-key-${token()}`;
      expectValidationFailed(await as(owner).post(orgProjectsUrl(org.orgId), { key, name }), ['key']);
      expect(await countProjects('name = $1', [name])).toBe(0);
    });

    it('rejects a missing key and a missing name, naming both', async () => {
      expectValidationFailed(await as(owner).post(orgProjectsUrl(org.orgId), {}), ['key', 'name']);
    });

    it.each([
      ['empty', ''],
      ['whitespace only', '   \t '],
      ['a number', 123],
      ['over 100 characters', 'x'.repeat(101)],
    ])('rejects a name that is %s', async (_label, name) => {
      expectValidationFailed(await as(owner).post(orgProjectsUrl(org.orgId), { key: freshKey(), name }), ['name']);
    });

    it('rejects unknown properties, naming them', async () => {
      const res = await as(owner).post(orgProjectsUrl(org.orgId), {
        key: freshKey(),
        name: 'x',
        archived: false,
        orgId: otherOrgId,
      });
      expectValidationFailed(res, ['archived', 'orgId']);
    });

    it('rejects a duplicate key in the same org with 409 CONFLICT, and nothing is created', async () => {
      const key = freshKey('DUP');
      await createProject({ key });
      const res = await as(org.users.admin).post(orgProjectsUrl(org.orgId), { key, name: 'Second' });
      expectError(res, 409, 'CONFLICT');
      expect(await countProjects('org_id = $1 AND key = $2', [org.orgId, key])).toBe(1);
    });

    it('accepts the same key in another org', async () => {
      const key = freshKey('SAME');
      const a = await createProject({ key });
      const b = await createProject({ key }, otherOwner, otherOrgId);
      expect(b.key).toBe(key);
      expect(b.orgId).toBe(otherOrgId);
      expect(b.id).not.toBe(a.id);
    });

    it('rejects a malformed org id with 400 and an unknown org with 404', async () => {
      expectValidationFailed(await as(owner).post(orgProjectsUrl('nope'), { key: freshKey(), name: 'x' }), ['orgId']);
      expectError(
        await as(owner).post(orgProjectsUrl('00000000-0000-4000-8000-000000000000'), { key: freshKey(), name: 'x' }),
        404,
        'NOT_FOUND',
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /orgs/{orgId}/projects', () => {
    it("lists only the org's projects", async () => {
      const mine = await createProject();
      const theirs = await createProject({}, otherOwner, otherOrgId);
      const listed = expectItems<ProjectBody>(
        await as(org.users.viewer).get(orgProjectsUrl(org.orgId)).query({ limit: 100 }),
      );
      expect(listed.map((p) => p.id)).toContain(mine.id);
      expect(listed.map((p) => p.id)).not.toContain(theirs.id);
      expect(listed.every((p) => p.orgId === org.orgId)).toBe(true);
      expect(listed.find((p) => p.id === mine.id)).toEqual(mine);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PUT and PATCH /projects/{projectId}', () => {
    it('PUT replaces name, description and archived; the version and ETag advance', async () => {
      const project = await createProject({ description: 'old' });
      const res = await as(org.users.admin).put(projectUrl(project.id), {
        name: ' Renamed ',
        description: 'new',
        archived: true,
      });
      const updated = expectData<ProjectBody>(res);
      expect(updated).toEqual({
        ...project,
        name: 'Renamed',
        description: 'new',
        archived: true,
        version: 2,
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      expect(res.headers.etag).toBe(etag(2));
      expect(await readProject(project.id)).toEqual(updated);
    });

    it.each(['name', 'description', 'archived'])(
      'PUT without %s is a 400 naming it, and changes nothing',
      async (field) => {
        const project = await createProject();
        const body: Record<string, unknown> = { name: 'Full', description: 'full', archived: false };
        delete body[field];
        expectValidationFailed(await as(owner).put(projectUrl(project.id), body), [field]);
        expect(await readProject(project.id)).toEqual(project);
      },
    );

    it('PUT rejects strictly mistyped fields', async () => {
      const project = await createProject();
      const res = await as(owner).put(projectUrl(project.id), { name: 5, description: null, archived: 'true' });
      expectValidationFailed(res, ['name', 'description', 'archived']);
      expect(await readProject(project.id)).toEqual(project);
    });

    it('PUT and PATCH cannot change the key (unknown property key → 400)', async () => {
      const project = await createProject();
      expectValidationFailed(
        await as(owner).put(projectUrl(project.id), { key: 'NEWKEY', name: 'n', description: '', archived: false }),
        ['key'],
      );
      expectValidationFailed(await as(owner).patch(projectUrl(project.id), { key: 'NEWKEY' }), ['key']);
      expect(await readProject(project.id)).toEqual(project);
    });

    it('PATCH changes only the given fields', async () => {
      const project = await createProject({ description: 'keep me' });
      const updated = expectData<ProjectBody>(await as(owner).patch(projectUrl(project.id), { name: 'Patched' }));
      expect(updated).toEqual({ ...project, name: 'Patched', version: 2, updatedAt: expect.stringMatching(ISO_UTC) });
    });

    it('PATCH rejects null and whitespace-only names', async () => {
      const project = await createProject();
      expectValidationFailed(await as(owner).patch(projectUrl(project.id), { name: null }), ['name']);
      expectValidationFailed(await as(owner).patch(projectUrl(project.id), { name: '   ' }), ['name']);
      expect(await readProject(project.id)).toEqual(project);
    });

    it('an archived project takes no new tasks (409 CONFLICT) until it is unarchived', async () => {
      const project = await createProject();
      const archived = expectData<ProjectBody>(await as(owner).patch(projectUrl(project.id), { archived: true }));
      expect(archived.archived).toBe(true);

      const refused = await as(org.users.member).post(`${projectUrl(project.id)}/tasks`, { title: 'Too late' });
      expectError(refused, 409, 'CONFLICT');
      const [{ count }] = await t.dataSource.query('SELECT count(*)::int AS count FROM tasks WHERE project_id = $1', [
        project.id,
      ]);
      expect(count).toBe(0);

      expectData(await as(owner).patch(projectUrl(project.id), { archived: false }));
      const task = expectData<TaskBody>(
        await as(org.users.member).post(`${projectUrl(project.id)}/tasks`, { title: 'Now' }),
        201,
      );
      expect(task.number).toBe(1);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DELETE /projects/{projectId}', () => {
    it('deletes the project and its tasks', async () => {
      const project = await createProject();
      const tasks = [];
      for (const title of ['one', 'two'])
        tasks.push(expectData<TaskBody>(await as(owner).post(`${projectUrl(project.id)}/tasks`, { title }), 201));

      expectNoContent(await as(org.users.admin).delete(projectUrl(project.id)));

      expectError(await as(owner).get(projectUrl(project.id)), 404, 'NOT_FOUND');
      expectError(await as(owner).get(`${projectUrl(project.id)}/tasks`), 404, 'NOT_FOUND');
      for (const task of tasks) expectError(await as(owner).get(`/api/v1/tasks/${task.id}`), 404, 'NOT_FOUND');
      const orgTasks = expectItems<TaskBody>(
        await as(owner).get(`/api/v1/orgs/${org.orgId}/tasks`).query({ limit: 100 }),
      );
      expect(orgTasks.filter((task) => task.projectId === project.id)).toEqual([]);
      const [{ count }] = await t.dataSource.query('SELECT count(*)::int AS count FROM tasks WHERE project_id = $1', [
        project.id,
      ]);
      expect(count).toBe(0);
      expectError(await as(owner).delete(projectUrl(project.id)), 404, 'NOT_FOUND');
    });

    it('frees the key for a new project', async () => {
      const project = await createProject({ key: 'REUSE' });
      expectNoContent(await as(owner).delete(projectUrl(project.id)));
      expect((await createProject({ key: 'REUSE' })).id).not.toBe(project.id);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('ETag and If-Match', () => {
    it('GET carries the ETag of the current version', async () => {
      const project = await createProject();
      expect((await as(owner).get(projectUrl(project.id))).headers.etag).toBe(etag(1));
      await as(owner).patch(projectUrl(project.id), { name: 'v2' });
      expect((await as(owner).get(projectUrl(project.id))).headers.etag).toBe(etag(2));
    });

    it.each(['PUT', 'PATCH', 'DELETE'] as const)(
      '%s with a stale If-Match is 412 and changes nothing',
      async (method) => {
        const project = await createProject();
        const v2 = expectData<ProjectBody>(await as(owner).patch(projectUrl(project.id), { name: 'v2' }));
        const url = projectUrl(project.id);
        const req =
          method === 'PUT'
            ? t.http().put(url).send({ name: 'stale', description: 'stale', archived: true })
            : method === 'PATCH'
              ? t.http().patch(url).send({ name: 'stale' })
              : t.http().delete(url);
        const res = await req.set(bearer(owner.accessToken)).set('If-Match', etag(1));
        expectError(res, 412, 'PRECONDITION_FAILED');
        expect(await readProject(project.id)).toEqual(v2);
      },
    );

    it('PATCH with the current ETag, or *, goes through', async () => {
      const project = await createProject();
      const v2 = await as(owner).patch(projectUrl(project.id), { name: 'v2' }).set('If-Match', etag(1));
      expect(expectData<ProjectBody>(v2)).toMatchObject({ name: 'v2', version: 2 });
      expect(v2.headers.etag).toBe(etag(2));
      const v3 = await as(owner).patch(projectUrl(project.id), { name: 'v3' }).set('If-Match', '*');
      expect(expectData<ProjectBody>(v3)).toMatchObject({ name: 'v3', version: 3 });
      const v4 = await as(owner)
        .put(projectUrl(project.id), { name: 'v4', description: '', archived: false })
        .set('If-Match', `"9", ${etag(3)}`);
      expect(expectData<ProjectBody>(v4)).toMatchObject({ name: 'v4', version: 4 });
    });

    it('a weak tag never matches (strong comparison): 412', async () => {
      const project = await createProject();
      expectError(
        await as(owner).patch(projectUrl(project.id), { name: 'weak' }).set('If-Match', 'W/"1"'),
        412,
        'PRECONDITION_FAILED',
      );
      expect(await readProject(project.id)).toEqual(project);
    });

    it('DELETE with the current ETag goes through', async () => {
      const project = await createProject();
      expectNoContent(await as(owner).delete(projectUrl(project.id)).set('If-Match', etag(1)));
      expectError(await as(owner).get(projectUrl(project.id)), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('Idempotency-Key on POST /orgs/{orgId}/projects', () => {
    const post = (user: SignedInUser, key: string, body: object, orgId = org.orgId) =>
      t.http().post(orgProjectsUrl(orgId)).set(bearer(user.accessToken)).set('Idempotency-Key', key).send(body);

    it('the same key and body replays the first response and creates nothing more', async () => {
      const key = idemKey();
      const body = { key: freshKey('IDEM'), name: 'Once' };
      const first = await post(owner, key, body);
      const created = expectData<ProjectBody>(first, 201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      const again = await post(owner, key, { name: 'Once', key: body.key }); // same body, keys reordered
      expect(expectData<ProjectBody>(again, 201)).toEqual(created);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers.etag).toBe(first.headers.etag);
      expect(again.body.meta.requestId).not.toBe(first.body.meta.requestId);
      expect(await countProjects('org_id = $1 AND key = $2', [org.orgId, body.key])).toBe(1);
    });

    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, nothing created', async () => {
      const key = idemKey();
      const body = { key: freshKey('IDEM'), name: 'First' };
      expectData(await post(owner, key, body), 201);
      const otherKey = freshKey('IDEM');
      expectError(await post(owner, key, { key: otherKey, name: 'Second' }), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await countProjects('key = $1', [otherKey])).toBe(0);
    });

    it('the same key on another path (another org) is 422, nothing created there', async () => {
      const ownerOfTwo = await registerUser(t);
      const orgOne = await createOrg(t, ownerOfTwo, 'One');
      const orgTwo = await createOrg(t, ownerOfTwo, 'Two');
      const key = idemKey();
      const body = { key: 'PATHS', name: 'Path test' };
      expectData(await post(ownerOfTwo, key, body, orgOne), 201);
      expectError(await post(ownerOfTwo, key, body, orgTwo), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await countProjects('org_id = $1', [orgTwo])).toBe(0);
    });

    it('the same key from another user is independent', async () => {
      const key = idemKey();
      const mine = expectData<ProjectBody>(await post(owner, key, { key: freshKey('IDEM'), name: 'Mine' }), 201);
      const res = await post(org.users.admin, key, { key: freshKey('IDEM'), name: 'Theirs' });
      const theirs = expectData<ProjectBody>(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(theirs.id).not.toBe(mine.id);
    });

    it('a request that failed (400, 409) leaves the key free for a retry', async () => {
      const key = idemKey();
      expectValidationFailed(await post(owner, key, { key: 'lower', name: 'Bad' }), ['key']);
      const taken = await createProject();
      expectError(await post(owner, key, { key: taken.key, name: 'Dup' }), 409, 'CONFLICT');
      const res = await post(owner, key, { key: freshKey('IDEM'), name: 'Good' });
      expectData(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
    });

    it('a key of 255 characters is accepted; 256 is a 400 naming the header, nothing created', async () => {
      expectData(await post(owner, 'k'.repeat(255), { key: freshKey('IDEM'), name: 'Long key' }), 201);
      const projectKey = freshKey('IDEM');
      const res = await post(owner, 'k'.repeat(256), { key: projectKey, name: 'Too long' });
      expectValidationFailed(res, ['Idempotency-Key']);
      expect(await countProjects('key = $1', [projectKey])).toBe(0);
    });

    it('replays even after the project is gone, until the key expires; then it creates again', async () => {
      const key = idemKey();
      const body = { key: freshKey('EXP'), name: 'Expiring' };
      const first = expectData<ProjectBody>(await post(owner, key, body), 201);
      expectNoContent(await as(owner).delete(projectUrl(first.id)));
      const replay = await post(owner, key, body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(expectData<ProjectBody>(replay, 201)).toEqual(first);

      await t.dataSource.query(
        `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND key = $2`,
        [owner.id, key],
      );
      const fresh = await post(owner, key, body);
      const created = expectData<ProjectBody>(fresh, 201);
      expect(fresh.headers['idempotent-replayed']).toBeUndefined();
      expect(created.id).not.toBe(first.id);
      expect(await readProject(created.id)).toEqual(created);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('role matrix', () => {
    type Expected = Record<Caller, number>;
    const READ: Expected = { owner: 200, admin: 200, member: 200, viewer: 200, outsider: 404 };

    interface RouteCase {
      route: string;
      expected: Expected;
      /** Sends the request; `project` is a fresh project of org A made for this call. */
      send(user: SignedInUser, project: ProjectBody): Promise<Response>;
      /** After a refused request: nothing changed. */
      unchanged?(project: ProjectBody, attemptedKey: string): Promise<void>;
    }

    let attemptedKey = '';
    const routes: RouteCase[] = [
      {
        route: 'GET /orgs/{orgId}/projects',
        expected: READ,
        send: (user) => as(user).get(orgProjectsUrl(org.orgId)),
      },
      {
        route: 'POST /orgs/{orgId}/projects',
        expected: { owner: 201, admin: 201, member: 403, viewer: 403, outsider: 404 },
        send: (user) => as(user).post(orgProjectsUrl(org.orgId), { key: (attemptedKey = freshKey('M')), name: 'M' }),
        unchanged: async (_project, key) => expect(await countProjects('key = $1', [key])).toBe(0),
      },
      {
        route: 'GET /projects/{projectId}',
        expected: READ,
        send: (user, project) => as(user).get(projectUrl(project.id)),
      },
      {
        route: 'PUT /projects/{projectId}',
        expected: { owner: 200, admin: 200, member: 403, viewer: 403, outsider: 404 },
        send: (user, project) =>
          as(user).put(projectUrl(project.id), { name: 'Put', description: 'p', archived: true }),
        unchanged: async (project) => expect(await readProject(project.id)).toEqual(project),
      },
      {
        route: 'PATCH /projects/{projectId}',
        expected: { owner: 200, admin: 200, member: 403, viewer: 403, outsider: 404 },
        send: (user, project) => as(user).patch(projectUrl(project.id), { archived: true }),
        unchanged: async (project) => expect(await readProject(project.id)).toEqual(project),
      },
      {
        route: 'DELETE /projects/{projectId}',
        expected: { owner: 204, admin: 204, member: 403, viewer: 403, outsider: 404 },
        send: (user, project) => as(user).delete(projectUrl(project.id)),
        unchanged: async (project) => expect(await readProject(project.id)).toEqual(project),
      },
    ];

    describe.each(routes)('$route', ({ expected, send, unchanged }) => {
      it.each(ROLES)('%s', async (role) => {
        const project = await createProject();
        const res = await send(org.users[role], project);
        const status = expected[role];
        if (status === 204) {
          expectNoContent(res);
          expectError(await as(owner).get(projectUrl(project.id)), 404, 'NOT_FOUND');
        } else if (status === 200) {
          const data = res.body.data;
          if (Array.isArray(data)) expectItems(res);
          else expect(expectData<ProjectBody>(res).id).toBe(project.id);
        } else if (status === 201) {
          const created = expectData<ProjectBody>(res, 201);
          expect(created).toMatchObject({ key: attemptedKey, orgId: org.orgId });
        } else {
          expectError(res, status, status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
          await unchanged?.(project, attemptedKey);
        }
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('tenancy: a user of org B on the projects of org A', () => {
    let project: ProjectBody;
    let task: TaskBody;

    beforeAll(async () => {
      project = await createProject({ description: 'Tenant A' });
      task = expectData<TaskBody>(await as(owner).post(`${projectUrl(project.id)}/tasks`, { title: 'A task' }), 201);
    });

    it.each([
      ['GET', () => as(otherOwner).get(projectUrl(project.id))],
      ['PUT', () => as(otherOwner).put(projectUrl(project.id), { name: 'Hijacked', description: '', archived: true })],
      ['PATCH', () => as(otherOwner).patch(projectUrl(project.id), { name: 'Hijacked' })],
      [
        'PATCH with If-Match *',
        () => as(otherOwner).patch(projectUrl(project.id), { archived: true }).set('If-Match', '*'),
      ],
      ['DELETE', () => as(otherOwner).delete(projectUrl(project.id))],
      ['GET tasks', () => as(otherOwner).get(`${projectUrl(project.id)}/tasks`)],
      ['POST tasks', () => as(otherOwner).post(`${projectUrl(project.id)}/tasks`, { title: 'Injected' })],
      ['GET the org projects', () => as(otherOwner).get(orgProjectsUrl(org.orgId))],
      ['POST to the org projects', () => as(otherOwner).post(orgProjectsUrl(org.orgId), { key: 'INJ', name: 'x' })],
    ])('%s is 404 NOT_FOUND', async (_label, send) => {
      const res = await send();
      expectError(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain('Tenant A');
    });

    it('left org A exactly as it was', async () => {
      expect(await readProject(project.id)).toEqual(project);
      const tasks = expectItems<TaskBody>(await as(owner).get(`${projectUrl(project.id)}/tasks`));
      expect(tasks).toEqual([task]);
      expect(await countProjects('org_id = $1 AND key = $2', [org.orgId, 'INJ'])).toBe(0);
      expect(await auditEvents(t, org.orgId, owner, { actorId: otherOwner.id })).toEqual([]);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('audit events', () => {
    const requestId = (label: string): string => `pt-${label}-${randomBytes(6).toString('hex')}`;

    it('project.created, project.updated and project.deleted, with field-level changes and the request id', async () => {
      const admin = org.users.admin;
      const createId = requestId('create');
      const key = freshKey('AUD');
      const created = await t
        .http()
        .post(orgProjectsUrl(org.orgId))
        .set(bearer(admin.accessToken))
        .set('X-Request-Id', createId)
        .send({ key, name: 'Audited', description: 'first' });
      const project = expectData<ProjectBody>(created, 201);
      expect(created.headers['x-request-id']).toBe(createId);

      const updateId = requestId('update');
      expectData(
        await as(admin)
          .patch(projectUrl(project.id), { name: 'Audited 2', description: 'first' })
          .set('X-Request-Id', updateId),
      );
      const deleteId = requestId('delete');
      expectNoContent(await as(admin).delete(projectUrl(project.id)).set('X-Request-Id', deleteId));

      const events = await auditEvents(t, org.orgId, owner, { entityType: 'project', entityId: project.id });
      const base = {
        orgId: org.orgId,
        actorType: 'user',
        actorId: admin.id,
        entityType: 'project',
        entityId: project.id,
      };
      expect(events).toEqual([
        {
          ...base,
          id: expect.stringMatching(UUID),
          action: 'project.deleted',
          changes: {
            key: [key, null],
            name: ['Audited 2', null],
            description: ['first', null],
            archived: [false, null],
          },
          requestId: deleteId,
          createdAt: expect.stringMatching(ISO_UTC),
        },
        {
          ...base,
          id: expect.stringMatching(UUID),
          action: 'project.updated',
          changes: { name: ['Audited', 'Audited 2'] },
          requestId: updateId,
          createdAt: expect.stringMatching(ISO_UTC),
        },
        {
          ...base,
          id: expect.stringMatching(UUID),
          action: 'project.created',
          changes: {
            key: [null, key],
            name: [null, 'Audited'],
            description: [null, 'first'],
            archived: [null, false],
          },
          requestId: createId,
          createdAt: expect.stringMatching(ISO_UTC),
        },
      ]);
    });

    it('failed writes (412, 409 duplicate key, 400, 403) leave no event', async () => {
      const project = await createProject();
      const before = await auditEvents(t, org.orgId, owner, { entityType: 'project' });

      expectError(
        await as(owner).patch(projectUrl(project.id), { name: 'x' }).set('If-Match', etag(7)),
        412,
        'PRECONDITION_FAILED',
      );
      expectError(await as(owner).delete(projectUrl(project.id)).set('If-Match', etag(7)), 412, 'PRECONDITION_FAILED');
      expectError(await as(owner).post(orgProjectsUrl(org.orgId), { key: project.key, name: 'dup' }), 409, 'CONFLICT');
      expectValidationFailed(await as(owner).put(projectUrl(project.id), { name: 'x' }), ['description', 'archived']);
      expectError(await as(org.users.member).patch(projectUrl(project.id), { name: 'x' }), 403, 'FORBIDDEN');

      expect(await auditEvents(t, org.orgId, owner, { entityType: 'project' })).toEqual(before);
    });

    it('a PATCH that changes nothing neither bumps the version nor writes an event', async () => {
      const project = await createProject({ name: 'Same' });
      const res = await as(owner).patch(projectUrl(project.id), { name: 'Same' });
      expect(expectData<ProjectBody>(res)).toEqual(project);
      const events = await auditEvents(t, org.orgId, owner, { entityId: project.id });
      expect(events.map((e) => e.action)).toEqual(['project.created']);
    });
  });
});
