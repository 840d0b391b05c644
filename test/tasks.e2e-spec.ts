import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { ProjectBody, TASK_KEYS, TaskBody } from './support/bodies';
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
import { bearer, registerUser, SignedInUser } from './support/users';

// Tasks (API.md §9), with the envelope (§2), status codes (§3), conventions (§4: strict bodies,
// PUT/PATCH, ETag and If-Match, Idempotency-Key), tenancy (§7) and the audit log (§12).

const taskUrl = (id: string): string => `/api/v1/tasks/${id}`;
const projectTasksUrl = (projectId: string): string => `/api/v1/projects/${projectId}/tasks`;

const uniqueTitle = (label = 'task'): string => `${label} ${randomBytes(5).toString('hex')}`;

/** Every mutable field, as PUT needs them. */
const FULL = {
  title: 'Replaced',
  description: 'All of it',
  status: 'in_progress',
  priority: 'high',
  assigneeId: null,
  dueDate: '2026-12-01',
  labels: ['backend', 'api'],
};

describe('tasks', () => {
  let t: TestApp;
  let org: RoleOrg;
  let owner: SignedInUser;
  /** ENG in org A: most tests add tasks here. */
  let eng: ProjectBody;
  let otherOwner: SignedInUser;
  let otherOrgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    org = await createRoleOrg(t, 'Org A');
    owner = org.users.owner;
    otherOwner = await registerUser(t, { name: 'Owner of B' });
    otherOrgId = await createOrg(t, otherOwner, 'Org B');
    eng = await createProject('ENG');
  });
  afterAll(() => t.close());

  const as = (user: SignedInUser) => client(t, user);

  async function createProject(key = freshKey('P'), user = owner, orgId = org.orgId): Promise<ProjectBody> {
    const res = await as(user).post(`/api/v1/orgs/${orgId}/projects`, { key, name: `Project ${key}` });
    return expectData<ProjectBody>(res, 201);
  }

  async function createTask(body: object = {}, projectId = eng.id, user = owner): Promise<TaskBody> {
    const res = await as(user).post(projectTasksUrl(projectId), { title: uniqueTitle(), ...body });
    return expectData<TaskBody>(res, 201);
  }

  const readTask = async (id: string): Promise<TaskBody> => expectData<TaskBody>(await as(owner).get(taskUrl(id)));

  const countTasks = async (where: string, params: unknown[]): Promise<number> => {
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM tasks WHERE ${where}`, params);
    return count;
  };

  // -------------------------------------------------------------------------------------------
  describe('POST /projects/{projectId}/tasks', () => {
    it('creates the first task with the defaults: 201, Location, ETag, number 1, key ENG-1', async () => {
      const res = await as(org.users.member).post(projectTasksUrl(eng.id), { title: '  Set up CI  ' });
      const task = expectData<TaskBody>(res, 201);
      expect(Object.keys(task).sort()).toEqual(TASK_KEYS);
      expect(task).toEqual({
        id: expect.stringMatching(UUID),
        projectId: eng.id,
        number: 1,
        key: 'ENG-1',
        title: 'Set up CI',
        description: '',
        status: 'todo',
        priority: 'medium',
        assigneeId: null,
        dueDate: null,
        labels: [],
        createdBy: org.users.member.id,
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
        version: 1,
      });
      expect(res.headers.location).toBe(`/api/v1/tasks/${task.id}`);
      expect(res.headers.etag).toBe(etag(1));
      const read = await as(org.users.viewer).get(res.headers.location);
      expect(expectData<TaskBody>(read)).toEqual(task);
      expect(read.headers.etag).toBe(etag(1));
    });

    it('keeps every given field', async () => {
      const body = {
        title: 'Full task',
        description: 'Described',
        status: 'in_progress',
        priority: 'urgent',
        assigneeId: org.users.viewer.id,
        dueDate: '2028-02-29',
        labels: ['a', 'b'],
      };
      const task = await createTask(body);
      expect(task).toMatchObject({ ...body, projectId: eng.id, key: `ENG-${task.number}` });
      expect(await readTask(task.id)).toEqual(task);
    });

    it('accepts an explicit null assignee and due date', async () => {
      const task = await createTask({ assigneeId: null, dueDate: null });
      expect(task).toMatchObject({ assigneeId: null, dueDate: null });
    });

    describe('assignee', () => {
      it.each(['owner', 'admin', 'member', 'viewer'] as const)('may be any member of the org (%s)', async (role) => {
        const task = await createTask({ assigneeId: org.users[role].id });
        expect(task.assigneeId).toBe(org.users[role].id);
      });

      it('may not be a user outside the org: 400 on assigneeId, nothing created', async () => {
        const title = uniqueTitle('outsider');
        const res = await as(owner).post(projectTasksUrl(eng.id), { title, assigneeId: org.users.outsider.id });
        const error = expectValidationFailed(res, ['assigneeId']);
        expect(error.message).toBe('Request validation failed');
        expect(await countTasks('title = $1', [title])).toBe(0);
      });

      it('may not be a member of another org only', async () => {
        expectValidationFailed(
          await as(owner).post(projectTasksUrl(eng.id), { title: 'x', assigneeId: otherOwner.id }),
          ['assigneeId'],
        );
      });

      it('may not be an unknown id or a non-UUID', async () => {
        for (const assigneeId of ['0b7c4c1e-1111-4222-8333-944455556666', 'not-a-uuid', 42, '']) {
          expectValidationFailed(await as(owner).post(projectTasksUrl(eng.id), { title: 'x', assigneeId }), [
            'assigneeId',
          ]);
        }
      });
    });

    describe('strict types', () => {
      it.each([
        ['title is a number', { title: 123 }, 'title'],
        ['title is empty', { title: '' }, 'title'],
        ['title is whitespace only', { title: ' \t\n ' }, 'title'],
        ['title is null', { title: null }, 'title'],
        ['title is over 200 characters', { title: 'x'.repeat(201) }, 'title'],
        ['labels is a string', { labels: 'x' }, 'labels'],
        ['labels holds a number', { labels: ['ok', 1] }, 'labels'],
        ['labels holds a blank label', { labels: [' '] }, 'labels'],
        ['labels repeats a label', { labels: ['a', 'a'] }, 'labels'],
        ['labels is null', { labels: null }, 'labels'],
        ['dueDate is not a calendar date', { dueDate: '2026-02-30' }, 'dueDate'],
        ['dueDate is Feb 29 of a common year', { dueDate: '2027-02-29' }, 'dueDate'],
        ['dueDate is a timestamp', { dueDate: '2026-12-01T00:00:00Z' }, 'dueDate'],
        ['dueDate is in another format', { dueDate: '01/12/2026' }, 'dueDate'],
        ['dueDate is a number', { dueDate: 20261201 }, 'dueDate'],
        ['status is unknown', { status: 'open' }, 'status'],
        ['status is null', { status: null }, 'status'],
        ['priority is a number', { priority: 5 }, 'priority'],
        ['priority is upper case', { priority: 'HIGH' }, 'priority'],
        ['description is a number', { description: 1 }, 'description'],
        ['description is null', { description: null }, 'description'],
      ])('%s → 400 VALIDATION_FAILED naming it', async (_label, patch, field) => {
        const body = { title: uniqueTitle('strict'), ...patch };
        expectValidationFailed(await as(owner).post(projectTasksUrl(eng.id), body), [field]);
        if (typeof body.title === 'string') expect(await countTasks('title = $1', [body.title.trim()])).toBe(0);
      });

      it('names every bad field at once, and unknown properties too', async () => {
        const res = await as(owner).post(projectTasksUrl(eng.id), {
          title: 123,
          labels: 'x',
          dueDate: '2026-02-30',
          status: 'open',
          priority: 5,
          number: 7,
          projectId: eng.id,
        });
        expectValidationFailed(res, ['title', 'labels', 'dueDate', 'status', 'priority', 'number', 'projectId']);
      });

      it('a missing title is a 400', async () => {
        expectValidationFailed(await as(owner).post(projectTasksUrl(eng.id), { description: 'no title' }), ['title']);
      });
    });

    it('a malformed project id is 400, an unknown project 404', async () => {
      expectValidationFailed(await as(owner).post(projectTasksUrl('123'), { title: 'x' }), ['projectId']);
      expectError(
        await as(owner).post(projectTasksUrl('00000000-0000-4000-8000-000000000000'), { title: 'x' }),
        404,
        'NOT_FOUND',
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('task numbers', () => {
    it('30 parallel creations in one project get exactly 1..30, keys K-1..K-30', async () => {
      const project = await createProject('RACE');
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          as([owner, org.users.admin, org.users.member][i % 3]).post(projectTasksUrl(project.id), {
            title: `Parallel ${i}`,
          }),
        ),
      );
      const tasks = results.map((res) => expectData<TaskBody>(res, 201));
      const numbers = tasks.map((task) => task.number).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      for (const task of tasks) expect(task.key).toBe(`RACE-${task.number}`);

      const rows: { number: number }[] = await t.dataSource.query(
        'SELECT number FROM tasks WHERE project_id = $1 ORDER BY number',
        [project.id],
      );
      expect(rows.map((r) => r.number)).toEqual(numbers);

      const listed = expectItems<TaskBody>(
        await as(owner).get(projectTasksUrl(project.id)).query({ sort: 'number', limit: 100 }),
      );
      expect(listed.map((task) => task.key)).toEqual(numbers.map((n) => `RACE-${n}`));
    });

    it('failed creations (400 body, 400 assignee, 409 archived) do not consume a number', async () => {
      const project = await createProject('GAPS');
      expect((await createTask({}, project.id)).number).toBe(1);
      expectValidationFailed(await as(owner).post(projectTasksUrl(project.id), { title: '  ' }), ['title']);
      expect((await createTask({}, project.id)).number).toBe(2);
      expectValidationFailed(
        await as(owner).post(projectTasksUrl(project.id), { title: 'x', assigneeId: org.users.outsider.id }),
        ['assigneeId'],
      );
      expect((await createTask({}, project.id)).number).toBe(3);
      expectData(await as(owner).patch(`/api/v1/projects/${project.id}`, { archived: true }));
      expectError(await as(owner).post(projectTasksUrl(project.id), { title: 'x' }), 409, 'CONFLICT');
      expectData(await as(owner).patch(`/api/v1/projects/${project.id}`, { archived: false }));
      const next = await createTask({}, project.id);
      expect(next).toMatchObject({ number: 4, key: 'GAPS-4' });
    });

    it('a deleted task does not give its number back (no duplicates)', async () => {
      const project = await createProject('NODUP');
      await createTask({}, project.id);
      const second = await createTask({}, project.id);
      expectNoContent(await as(owner).delete(taskUrl(second.id)));
      expect((await createTask({}, project.id)).number).toBe(3);
    });

    it('numbers are per project', async () => {
      const a = await createProject();
      const b = await createProject();
      expect((await createTask({}, a.id)).number).toBe(1);
      expect((await createTask({}, b.id)).number).toBe(1);
      expect((await createTask({}, a.id)).number).toBe(2);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PUT /tasks/{taskId}', () => {
    it('replaces every mutable field; the version and ETag advance', async () => {
      const task = await createTask({ assigneeId: org.users.member.id, labels: ['old'] });
      const res = await as(org.users.member).put(taskUrl(task.id), FULL);
      const updated = expectData<TaskBody>(res);
      expect(updated).toEqual({ ...task, ...FULL, version: 2, updatedAt: expect.stringMatching(ISO_UTC) });
      expect(res.headers.etag).toBe(etag(2));
      expect(await readTask(task.id)).toEqual(updated);
    });

    it.each(Object.keys(FULL))('without %s is a 400 naming it, and changes nothing', async (field) => {
      const task = await createTask();
      const body: Record<string, unknown> = { ...FULL };
      delete body[field];
      expectValidationFailed(await as(owner).put(taskUrl(task.id), body), [field]);
      expect(await readTask(task.id)).toEqual(task);
    });

    it('takes null for assigneeId and dueDate', async () => {
      const task = await createTask({ assigneeId: owner.id, dueDate: '2026-01-01' });
      const updated = expectData<TaskBody>(
        await as(owner).put(taskUrl(task.id), { ...FULL, assigneeId: null, dueDate: null }),
      );
      expect(updated).toMatchObject({ assigneeId: null, dueDate: null });
    });

    it('cannot change number, key, projectId or createdBy (unknown properties → 400)', async () => {
      const task = await createTask();
      const other = await createProject();
      const res = await as(owner).put(taskUrl(task.id), {
        ...FULL,
        number: 99,
        key: 'X-1',
        projectId: other.id,
        createdBy: org.users.admin.id,
      });
      expectValidationFailed(res, ['number', 'key', 'projectId', 'createdBy']);
      expect(await readTask(task.id)).toEqual(task);
    });

    it('checks the assignee: outside the org → 400 on assigneeId, nothing changed', async () => {
      const task = await createTask();
      expectValidationFailed(await as(owner).put(taskUrl(task.id), { ...FULL, assigneeId: org.users.outsider.id }), [
        'assigneeId',
      ]);
      expect(await readTask(task.id)).toEqual(task);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PATCH /tasks/{taskId}', () => {
    it('changes only the given fields', async () => {
      const task = await createTask({ description: 'keep', labels: ['keep'] });
      const updated = expectData<TaskBody>(await as(owner).patch(taskUrl(task.id), { status: 'done' }));
      expect(updated).toEqual({ ...task, status: 'done', version: 2, updatedAt: expect.stringMatching(ISO_UTC) });
    });

    it('null clears assigneeId and dueDate', async () => {
      const task = await createTask({ assigneeId: org.users.admin.id, dueDate: '2026-06-30' });
      const cleared = expectData<TaskBody>(
        await as(owner).patch(taskUrl(task.id), { assigneeId: null, dueDate: null }),
      );
      expect(cleared).toEqual({
        ...task,
        assigneeId: null,
        dueDate: null,
        version: 2,
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      expect(await readTask(task.id)).toEqual(cleared);
    });

    it('sets an assignee who is a member; refuses one who is not', async () => {
      const task = await createTask();
      const assigned = expectData<TaskBody>(
        await as(owner).patch(taskUrl(task.id), { assigneeId: org.users.viewer.id }),
      );
      expect(assigned.assigneeId).toBe(org.users.viewer.id);
      expectValidationFailed(await as(owner).patch(taskUrl(task.id), { assigneeId: org.users.outsider.id }), [
        'assigneeId',
      ]);
      expect(await readTask(task.id)).toEqual(assigned);
    });

    it.each([
      ['title', null],
      ['title', '   '],
      ['status', 'open'],
      ['priority', 5],
      ['labels', 'x'],
      ['dueDate', '2026-02-30'],
      ['description', null],
      ['key', 'ENG-9'],
      ['number', 9],
    ])('rejects %s = %j with 400, changing nothing', async (field, value) => {
      const task = await createTask();
      expectValidationFailed(await as(owner).patch(taskUrl(task.id), { [field]: value }), [field]);
      expect(await readTask(task.id)).toEqual(task);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DELETE /tasks/{taskId}', () => {
    it('204 without a body; then GET, PATCH and DELETE are 404', async () => {
      const task = await createTask();
      expectNoContent(await as(org.users.member).delete(taskUrl(task.id)));
      expectError(await as(owner).get(taskUrl(task.id)), 404, 'NOT_FOUND');
      expectError(await as(owner).patch(taskUrl(task.id), { title: 'x' }), 404, 'NOT_FOUND');
      expectError(await as(owner).delete(taskUrl(task.id)), 404, 'NOT_FOUND');
      expect(await countTasks('id = $1', [task.id])).toBe(0);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('ETag and If-Match', () => {
    it.each(['PUT', 'PATCH', 'DELETE'] as const)(
      '%s with a stale If-Match is 412 and changes nothing',
      async (method) => {
        const task = await createTask();
        const v2 = expectData<TaskBody>(await as(owner).patch(taskUrl(task.id), { title: 'v2' }));
        const url = taskUrl(task.id);
        const req =
          method === 'PUT'
            ? t.http().put(url).send(FULL)
            : method === 'PATCH'
              ? t.http().patch(url).send({ status: 'done' })
              : t.http().delete(url);
        expectError(await req.set(bearer(owner.accessToken)).set('If-Match', etag(1)), 412, 'PRECONDITION_FAILED');
        expect(await readTask(task.id)).toEqual(v2);
      },
    );

    it('the current ETag and * go through; a weak tag is 412', async () => {
      const task = await createTask();
      const v2 = await as(owner).patch(taskUrl(task.id), { status: 'in_progress' }).set('If-Match', etag(1));
      expect(expectData<TaskBody>(v2)).toMatchObject({ status: 'in_progress', version: 2 });
      expect(v2.headers.etag).toBe(etag(2));
      const v3 = await as(owner).put(taskUrl(task.id), FULL).set('If-Match', etag(2));
      expect(expectData<TaskBody>(v3)).toMatchObject({ ...FULL, version: 3 });
      const v4 = await as(owner).patch(taskUrl(task.id), { status: 'done' }).set('If-Match', '*');
      const current = expectData<TaskBody>(v4);
      expect(current).toMatchObject({ status: 'done', version: 4 });

      expectError(
        await as(owner).patch(taskUrl(task.id), { status: 'canceled' }).set('If-Match', 'W/"4"'),
        412,
        'PRECONDITION_FAILED',
      );
      expect(await readTask(task.id)).toEqual(current);
      expectNoContent(await as(owner).delete(taskUrl(task.id)).set('If-Match', etag(4)));
    });

    it('10 parallel PATCHes with the same If-Match: exactly one 200, nine 412', async () => {
      const task = await createTask();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          as(owner)
            .patch(taskUrl(task.id), { title: `Racer ${i}` })
            .set('If-Match', etag(1)),
        ),
      );
      const winners = results.filter((res) => res.status === 200);
      const losers = results.filter((res) => res.status !== 200);
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(9);
      for (const res of losers) expectError(res, 412, 'PRECONDITION_FAILED');
      const won = expectData<TaskBody>(winners[0]);
      expect(won.version).toBe(2);
      expect(await readTask(task.id)).toEqual(won);
      const updates = await auditEvents(t, org.orgId, owner, { entityId: task.id, action: 'task.updated' });
      expect(updates).toHaveLength(1);
      expect(updates[0].changes).toEqual({ title: [task.title, won.title] });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('Idempotency-Key on POST /projects/{projectId}/tasks', () => {
    const post = (user: SignedInUser, key: string, body: object, projectId = eng.id) =>
      t.http().post(projectTasksUrl(projectId)).set(bearer(user.accessToken)).set('Idempotency-Key', key).send(body);

    it('the same key and body replays the first response and creates nothing more', async () => {
      const key = idemKey();
      const body = { title: uniqueTitle('idem'), labels: ['x', 'y'], priority: 'low' };
      const first = await post(org.users.member, key, body);
      const created = expectData<TaskBody>(first, 201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      const again = await post(org.users.member, key, { priority: 'low', labels: ['x', 'y'], title: body.title });
      expect(again.status).toBe(201);
      expect(expectData<TaskBody>(again, 201)).toEqual(created);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(first.headers.location);
      expect(again.headers.location).toBe(`/api/v1/tasks/${created.id}`);
      expect(again.body.meta.requestId).toBe(again.headers['x-request-id']);
      expect(again.body.meta.requestId).not.toBe(first.body.meta.requestId);
      expect(await countTasks('title = $1', [body.title])).toBe(1);
    });

    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, nothing created', async () => {
      const key = idemKey();
      await post(owner, key, { title: uniqueTitle('first') }).expect(201);
      const title = uniqueTitle('second');
      expectError(await post(owner, key, { title }), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await countTasks('title = $1', [title])).toBe(0);
    });

    it('the same key on another path (another project) is 422, nothing created there', async () => {
      const other = await createProject();
      const key = idemKey();
      const body = { title: uniqueTitle('path') };
      await post(owner, key, body).expect(201);
      expectError(await post(owner, key, body, other.id), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await countTasks('project_id = $1', [other.id])).toBe(0);
    });

    it('the same key and body from another user creates another task', async () => {
      const key = idemKey();
      const body = { title: uniqueTitle('shared') };
      const mine = expectData<TaskBody>(await post(owner, key, body), 201);
      const res = await post(org.users.admin, key, body);
      const theirs = expectData<TaskBody>(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(theirs.id).not.toBe(mine.id);
      expect(theirs.createdBy).toBe(org.users.admin.id);
      expect(await countTasks('title = $1', [body.title])).toBe(2);
    });

    it('20 parallel POSTs with one key create exactly one task', async () => {
      const key = idemKey();
      const body = { title: uniqueTitle('parallel-idem') };
      const results = await Promise.all(Array.from({ length: 20 }, () => post(owner, key, body)));
      for (const res of results) {
        if (res.status === 409) {
          expectError(res, 409, 'IDEMPOTENCY_IN_PROGRESS');
          expect(res.headers['retry-after']).toBeDefined();
        } else expectData<TaskBody>(res, 201);
      }
      const created = results.filter((res) => res.status === 201);
      expect(created.length).toBeGreaterThanOrEqual(1);
      expect(created.filter((res) => res.headers['idempotent-replayed'] === undefined)).toHaveLength(1);
      expect(new Set(created.map((res) => res.body.data.id)).size).toBe(1);
      expect(await countTasks('title = $1', [body.title])).toBe(1);

      const replay = await post(owner, key, body);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(expectData<TaskBody>(replay, 201).id).toBe(created[0].body.data.id);
    });

    it('a request that failed (400 assignee, 409 archived) leaves the key free for a retry', async () => {
      const project = await createProject();
      const key = idemKey();
      const body = { title: uniqueTitle('retry') };

      expectValidationFailed(await post(owner, key, { ...body, assigneeId: org.users.outsider.id }, project.id), [
        'assigneeId',
      ]);
      expectValidationFailed(await post(owner, key, { title: 7 }, project.id), ['title']);
      expectData(await as(owner).patch(`/api/v1/projects/${project.id}`, { archived: true }));
      expectError(await post(owner, key, body, project.id), 409, 'CONFLICT');
      expectData(await as(owner).patch(`/api/v1/projects/${project.id}`, { archived: false }));

      const res = await post(owner, key, body, project.id);
      const task = expectData<TaskBody>(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(task.number).toBe(1);
    });

    it('an empty key or one over 255 characters is a 400 naming the header, nothing created', async () => {
      const title = uniqueTitle('long-key');
      expectValidationFailed(await post(owner, 'k'.repeat(256), { title }), ['Idempotency-Key']);
      expectValidationFailed(await post(owner, '', { title }), ['Idempotency-Key']);
      expect(await countTasks('title = $1', [title])).toBe(0);
      await post(owner, 'k'.repeat(255), { title }).expect(201);
    });

    it('a replay still checks access: removed from the org → 404, demoted to viewer → 403', async () => {
      const leaver = await registerUser(t, { name: 'Leaver' });
      const demoted = await registerUser(t, { name: 'Demoted' });
      const members = `/api/v1/orgs/${org.orgId}/members`;
      for (const user of [leaver, demoted])
        await as(owner).post(members, { email: user.email, role: 'member' }).expect(201);
      const key = idemKey();
      const body = { title: uniqueTitle('secret') };
      expectData(await post(leaver, key, body), 201);
      expectData(await post(demoted, key, body), 201);

      expectNoContent(await as(owner).delete(`${members}/${leaver.id}`));
      expectData(await as(owner).patch(`${members}/${demoted.id}`, { role: 'viewer' }));

      const gone = await post(leaver, key, body);
      expectError(gone, 404, 'NOT_FOUND');
      expect(JSON.stringify(gone.body)).not.toContain(body.title);
      expect(gone.headers['idempotent-replayed']).toBeUndefined();
      expectError(await post(demoted, key, body), 403, 'FORBIDDEN');
      expect(await countTasks('title = $1', [body.title])).toBe(2);
    });

    it('an expired key creates again', async () => {
      const key = idemKey();
      const body = { title: uniqueTitle('expiring') };
      const first = expectData<TaskBody>(await post(owner, key, body), 201);
      await t.dataSource.query(
        `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND key = $2`,
        [owner.id, key],
      );
      const res = await post(owner, key, body);
      const second = expectData<TaskBody>(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(second.id).not.toBe(first.id);
      expect(second.number).toBe(first.number + 1);
      expect(await countTasks('title = $1', [body.title])).toBe(2);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('role matrix', () => {
    type Expected = Record<Caller, number>;
    const READ: Expected = { owner: 200, admin: 200, member: 200, viewer: 200, outsider: 404 };
    const WRITE = (success: number): Expected => ({
      owner: success,
      admin: success,
      member: success,
      viewer: 403,
      outsider: 404,
    });

    interface Target {
      project: ProjectBody;
      task: TaskBody;
    }
    interface RouteCase {
      route: string;
      expected: Expected;
      send(user: SignedInUser, target: Target): Promise<Response>;
    }

    const routes: RouteCase[] = [
      {
        route: 'GET /projects/{projectId}/tasks',
        expected: READ,
        send: (user, { project }) => as(user).get(projectTasksUrl(project.id)),
      },
      {
        route: 'POST /projects/{projectId}/tasks',
        expected: WRITE(201),
        send: (user, { project }) => as(user).post(projectTasksUrl(project.id), { title: 'Matrix' }),
      },
      { route: 'GET /tasks/{taskId}', expected: READ, send: (user, { task }) => as(user).get(taskUrl(task.id)) },
      {
        route: 'PUT /tasks/{taskId}',
        expected: WRITE(200),
        send: (user, { task }) => as(user).put(taskUrl(task.id), FULL),
      },
      {
        route: 'PATCH /tasks/{taskId}',
        expected: WRITE(200),
        send: (user, { task }) => as(user).patch(taskUrl(task.id), { status: 'done' }),
      },
      {
        route: 'DELETE /tasks/{taskId}',
        expected: WRITE(204),
        send: (user, { task }) => as(user).delete(taskUrl(task.id)),
      },
      {
        route: 'GET /orgs/{orgId}/tasks',
        expected: READ,
        send: (user) => as(user).get(`/api/v1/orgs/${org.orgId}/tasks`),
      },
    ];

    describe.each(routes)('$route', ({ expected, send }) => {
      it.each(ROLES)('%s', async (role) => {
        // A fresh project with one task for every call.
        const project = await createProject();
        const task = await createTask({ title: 'Target' }, project.id);
        const res = await send(org.users[role], { project, task });
        const status = expected[role];
        const tasksNow = async () => expectItems<TaskBody>(await as(owner).get(projectTasksUrl(project.id)));

        if (status === 200 && Array.isArray(res.body.data)) {
          expect(expectItems<TaskBody>(res).map((x) => x.id)).toContain(task.id);
        } else if (status === 200) {
          expect(expectData<TaskBody>(res).id).toBe(task.id);
        } else if (status === 201) {
          expect(expectData<TaskBody>(res, 201)).toMatchObject({
            projectId: project.id,
            number: 2,
            createdBy: org.users[role].id,
          });
        } else if (status === 204) {
          expectNoContent(res);
          expect(await tasksNow()).toEqual([]);
        } else {
          expectError(res, status, status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
          // Refused: the project still holds exactly the one, unchanged task.
          expect(await tasksNow()).toEqual([task]);
        }
      });
    });

    it('POST /projects/{projectId}/tasks checks access before the body, with or without an Idempotency-Key', async () => {
      const project = await createProject();
      const invalid = { title: '', labels: 'not-a-list' };
      for (const headers of [{}, { 'Idempotency-Key': `access-first-${randomBytes(4).toString('hex')}` }]) {
        const send = (user: SignedInUser) => as(user).post(projectTasksUrl(project.id), invalid).set(headers);
        expectError(await send(org.users.outsider), 404, 'NOT_FOUND');
        expectError(await send(org.users.viewer), 403, 'FORBIDDEN');
        expectError(await send(org.users.member), 400, 'VALIDATION_FAILED');
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('tenancy: a user of org B with the ids of org A', () => {
    let project: ProjectBody;
    let task: TaskBody;
    let otherProject: ProjectBody;

    beforeAll(async () => {
      project = await createProject('TEN');
      task = await createTask({ title: 'Secret of A', assigneeId: org.users.member.id }, project.id);
      otherProject = await createProject('TENB', otherOwner, otherOrgId);
    });

    it.each([
      ['GET the task', () => as(otherOwner).get(taskUrl(task.id))],
      ['PUT the task', () => as(otherOwner).put(taskUrl(task.id), FULL)],
      ['PATCH the task', () => as(otherOwner).patch(taskUrl(task.id), { title: 'Hijacked' })],
      [
        'PATCH the task with If-Match',
        () => as(otherOwner).patch(taskUrl(task.id), { title: 'H' }).set('If-Match', '"1"'),
      ],
      ['DELETE the task', () => as(otherOwner).delete(taskUrl(task.id))],
      ['GET the project tasks', () => as(otherOwner).get(projectTasksUrl(project.id))],
      ['POST a task to the project', () => as(otherOwner).post(projectTasksUrl(project.id), { title: 'Injected' })],
      [
        'POST a task with an Idempotency-Key',
        () => as(otherOwner).post(projectTasksUrl(project.id), { title: 'Injected' }).set('Idempotency-Key', idemKey()),
      ],
      ['GET the org tasks', () => as(otherOwner).get(`/api/v1/orgs/${org.orgId}/tasks`)],
    ])('%s → 404 NOT_FOUND', async (_label, send) => {
      const res = await send();
      expectError(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toContain('Secret of A');
    });

    it("assigning org A's member in org B's project is refused (400 on assigneeId)", async () => {
      expectValidationFailed(
        await as(otherOwner).post(projectTasksUrl(otherProject.id), { title: 'x', assigneeId: org.users.member.id }),
        ['assigneeId'],
      );
    });

    it('left org A exactly as it was', async () => {
      expect(await readTask(task.id)).toEqual(task);
      expect(expectItems<TaskBody>(await as(owner).get(projectTasksUrl(project.id)))).toEqual([task]);
      expect(await countTasks('org_id = $1 AND title = $2', [org.orgId, 'Injected'])).toBe(0);
      expect(await auditEvents(t, org.orgId, owner, { actorId: otherOwner.id })).toEqual([]);
    });

    it("the org-wide list of B shows none of A's tasks", async () => {
      const listed = expectItems<TaskBody>(
        await as(otherOwner).get(`/api/v1/orgs/${otherOrgId}/tasks`).query({ limit: 100 }),
      );
      expect(listed.map((x) => x.id)).not.toContain(task.id);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('audit events', () => {
    const requestId = (label: string): string => `pt-${label}-${randomBytes(6).toString('hex')}`;

    it('task.created, task.updated and task.deleted, with field-level changes and the request id', async () => {
      const member = org.users.member;
      const createId = requestId('create');
      const created = await as(member)
        .post(projectTasksUrl(eng.id), { title: 'Audited', labels: ['l1'], dueDate: '2026-05-01' })
        .set('X-Request-Id', createId);
      const task = expectData<TaskBody>(created, 201);

      const updateId = requestId('update');
      expectData(
        await as(member)
          .patch(taskUrl(task.id), { status: 'done', title: 'Audited', assigneeId: member.id, dueDate: null })
          .set('X-Request-Id', updateId),
      );
      const deleteId = requestId('delete');
      expectNoContent(await as(member).delete(taskUrl(task.id)).set('X-Request-Id', deleteId));

      const events = await auditEvents(t, org.orgId, owner, { entityType: 'task', entityId: task.id });
      const base = {
        id: expect.stringMatching(UUID),
        orgId: org.orgId,
        actorType: 'user',
        actorId: member.id,
        entityType: 'task',
        entityId: task.id,
        createdAt: expect.stringMatching(ISO_UTC),
      };
      expect(events).toEqual([
        {
          ...base,
          action: 'task.deleted',
          changes: {
            title: ['Audited', null],
            description: ['', null],
            status: ['done', null],
            priority: ['medium', null],
            assigneeId: [member.id, null],
            labels: [['l1'], null],
          },
          requestId: deleteId,
        },
        {
          ...base,
          action: 'task.updated',
          changes: { status: ['todo', 'done'], assigneeId: [null, member.id], dueDate: ['2026-05-01', null] },
          requestId: updateId,
        },
        {
          ...base,
          action: 'task.created',
          changes: {
            title: [null, 'Audited'],
            description: [null, ''],
            status: [null, 'todo'],
            priority: [null, 'medium'],
            dueDate: [null, '2026-05-01'],
            labels: [null, ['l1']],
          },
          requestId: createId,
        },
      ]);
    });

    it('failed writes (412, 409 archived, 400 assignee, 403 viewer) leave no event', async () => {
      const project = await createProject();
      const task = await createTask({}, project.id);
      const before = await auditEvents(t, org.orgId, owner, { entityType: 'task' });

      expectError(
        await as(owner).patch(taskUrl(task.id), { status: 'done' }).set('If-Match', etag(5)),
        412,
        'PRECONDITION_FAILED',
      );
      expectError(await as(owner).delete(taskUrl(task.id)).set('If-Match', etag(5)), 412, 'PRECONDITION_FAILED');
      expectValidationFailed(await as(owner).patch(taskUrl(task.id), { assigneeId: org.users.outsider.id }), [
        'assigneeId',
      ]);
      expectValidationFailed(
        await as(owner).post(projectTasksUrl(project.id), { title: 'x', assigneeId: org.users.outsider.id }),
        ['assigneeId'],
      );
      expectError(await as(org.users.viewer).patch(taskUrl(task.id), { status: 'done' }), 403, 'FORBIDDEN');
      expectError(await as(org.users.viewer).post(projectTasksUrl(project.id), { title: 'x' }), 403, 'FORBIDDEN');
      expectData(await as(owner).patch(`/api/v1/projects/${project.id}`, { archived: true }));
      expectError(await as(owner).post(projectTasksUrl(project.id), { title: 'x' }), 409, 'CONFLICT');

      expect(await auditEvents(t, org.orgId, owner, { entityType: 'task' })).toEqual(before);
      expect(await readTask(task.id)).toEqual(task);
    });

    it('an idempotent replay writes no second task.created', async () => {
      const key = idemKey();
      const body = { title: uniqueTitle('audit-idem') };
      const send = () =>
        t.http().post(projectTasksUrl(eng.id)).set(bearer(owner.accessToken)).set('Idempotency-Key', key).send(body);
      const task = expectData<TaskBody>(await send(), 201);
      expect((await send()).headers['idempotent-replayed']).toBe('true');
      const events = await auditEvents(t, org.orgId, owner, { entityId: task.id });
      expect(events.map((e) => e.action)).toEqual(['task.created']);
    });
  });
});
