import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import type { ProjectBody, TaskBody } from './support/bodies';
import { byCreatedAtThenId, COMMENT_KEYS, CommentBody, commentUrl, taskCommentsUrl } from './support/comments-helpers';
import {
  etag,
  expectData,
  expectError,
  expectItems,
  expectList,
  expectNoContent,
  expectUnauthenticated,
  expectValidationFailed,
  flipCharacter,
  ISO_UTC,
  UUID,
  walkPages,
} from './support/envelope';
import { auditEvents, Caller, client, createOrg, createRoleOrg, idemKey, RoleOrg, ROLES } from './support/pt-helpers';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser } from './support/users';

// Comments (API.md §10), with the envelope (§2), status codes (§3), conventions (§4: strict
// bodies, ETag and If-Match, Idempotency-Key, cursors), tenancy (§7) and the audit log (§12).

const uniqueText = (label = 'comment'): string => `${label} ${randomBytes(5).toString('hex')}`;
const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

describe('comments', () => {
  let t: TestApp;
  let org: RoleOrg;
  let owner: SignedInUser;
  let project: ProjectBody;
  /** Most tests comment on this task. */
  let task: TaskBody;
  let otherOwner: SignedInUser;
  let otherTask: TaskBody;

  beforeAll(async () => {
    t = await createTestApp();
    org = await createRoleOrg(t, 'Comment Org');
    owner = org.users.owner;
    project = expectData<ProjectBody>(
      await as(owner).post(`/api/v1/orgs/${org.orgId}/projects`, { key: 'COM', name: 'Comments' }),
      201,
    );
    task = await createTask();
    otherOwner = await registerUser(t, { name: 'Owner of B' });
    const otherOrgId = await createOrg(t, otherOwner, 'Org B');
    const otherProject = expectData<ProjectBody>(
      await as(otherOwner).post(`/api/v1/orgs/${otherOrgId}/projects`, { key: 'OTH', name: 'Other' }),
      201,
    );
    otherTask = expectData<TaskBody>(
      await as(otherOwner).post(`/api/v1/projects/${otherProject.id}/tasks`, { title: 'Task of B' }),
      201,
    );
  });
  afterAll(() => t?.close());

  const as = (user: SignedInUser) => client(t, user);

  async function createTask(user = owner): Promise<TaskBody> {
    const res = await as(user).post(`/api/v1/projects/${project.id}/tasks`, { title: uniqueText('task') });
    return expectData<TaskBody>(res, 201);
  }

  async function createComment(user: SignedInUser = org.users.member, taskId = task.id, body = uniqueText()) {
    return expectData<CommentBody>(await as(user).post(taskCommentsUrl(taskId), { body }), 201);
  }

  /** The comment as the database holds it, or undefined. */
  async function commentRow(id: string): Promise<CommentBody | undefined> {
    const [row] = await t.dataSource.query(
      `SELECT id, task_id AS "taskId", author_id AS "authorId", body, created_at AS "createdAt",
              updated_at AS "updatedAt", version FROM comments WHERE id = $1`,
      [id],
    );
    return row ? { ...row, createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString() } : undefined;
  }

  const countComments = async (where: string, params: unknown[]): Promise<number> => {
    const [{ count }] = await t.dataSource.query(`SELECT count(*)::int AS count FROM comments WHERE ${where}`, params);
    return count;
  };

  /** Every comment of a task, oldest first, on one page. */
  async function listAll(taskId = task.id, user = owner): Promise<CommentBody[]> {
    const { data, page } = expectList<CommentBody>(await as(user).get(taskCommentsUrl(taskId)).query({ limit: 100 }));
    expect(page.nextCursor).toBeNull();
    return data;
  }

  const ORGS = '/api/v1/orgs/';
  async function joinOrg(role: 'member' | 'viewer' = 'member'): Promise<SignedInUser> {
    const user = await registerUser(t, { name: `Joiner ${role}` });
    await as(owner).post(`${ORGS}${org.orgId}/members`, { email: user.email, role }).expect(201);
    return user;
  }
  const leaveOrg = async (user: SignedInUser): Promise<void> =>
    expectNoContent(await as(user).delete(`${ORGS}${org.orgId}/members/${user.id}`));

  // -------------------------------------------------------------------------------------------
  describe('POST /tasks/{taskId}/comments', () => {
    it('creates a comment: 201, exact shape, Location, ETag "1"; the Location reads back in the list', async () => {
      const res = await as(org.users.member).post(taskCommentsUrl(task.id), { body: 'First!' });
      const comment = expectData<CommentBody>(res, 201);
      expect(Object.keys(comment).sort()).toEqual(COMMENT_KEYS);
      expect(comment).toEqual({
        id: expect.stringMatching(UUID),
        taskId: task.id,
        authorId: org.users.member.id,
        body: 'First!',
        createdAt: expect.stringMatching(ISO_UTC),
        updatedAt: expect.stringMatching(ISO_UTC),
        version: 1,
      });
      expect(comment.updatedAt).toBe(comment.createdAt);
      expect(res.headers.location).toBe(`/api/v1/comments/${comment.id}`);
      expect(res.headers.etag).toBe(etag(1));
      expect(await commentRow(comment.id)).toEqual(comment);
      expect((await listAll()).filter((c) => c.id === comment.id)).toEqual([comment]);
    });

    it.each(['owner', 'admin', 'member', 'viewer'] as const)(
      'any member may comment, viewers too (%s)',
      async (role) => {
        const comment = await createComment(org.users[role]);
        expect(comment.authorId).toBe(org.users[role].id);
      },
    );

    it('keeps the body exactly as written: surrounding whitespace, line breaks, unicode, unnormalized', async () => {
      const bodies = [
        '  leading and trailing  ',
        '\n\tindented\r\nlines\n',
        'Ünïcödé — 日本語 — émoji 🎉👩‍👩‍👧 — RTL עברית',
        'cafe\u0301 (decomposed, not NFC)',
        '<script>alert(1)</script> & "quotes" \\ backslash',
        'x',
      ];
      for (const body of bodies) {
        const comment = await createComment(owner, task.id, body);
        expect(comment.body).toBe(body);
        expect((await commentRow(comment.id))!.body).toBe(body);
      }
    });

    it('accepts a body of exactly 10,000 characters', async () => {
      const body = 'y'.repeat(10_000);
      expect((await createComment(owner, task.id, body)).body).toBe(body);
    });

    it('counts characters, not UTF-16 units: 10,000 emoji are accepted, 10,001 are not', async () => {
      const body = '😀'.repeat(10_000);
      expect((await createComment(owner, task.id, body)).body).toBe(body);
      expectValidationFailed(await as(owner).post(taskCommentsUrl(task.id), { body: '😀'.repeat(10_001) }), ['body']);
    });

    it('accepts an upper-case task id and hands it back lower-case', async () => {
      const comment = expectData<CommentBody>(
        await as(owner).post(taskCommentsUrl(task.id.toUpperCase()), { body: 'upper' }),
        201,
      );
      expect(comment.taskId).toBe(task.id);
    });

    describe('strict body', () => {
      it.each([
        ['body is missing', {}, ['body']],
        ['body is empty', { body: '' }, ['body']],
        ['body is a space', { body: ' ' }, ['body']],
        ['body is whitespace only', { body: ' \t\r\n ' }, ['body']],
        ['body is no-break spaces only', { body: '\u00a0\u3000' }, ['body']],
        ['body is 10,001 characters', { body: 'z'.repeat(10_001) }, ['body']],
        ['body is a number', { body: 123 }, ['body']],
        ['body is true', { body: true }, ['body']],
        ['body is null', { body: null }, ['body']],
        ['body is an array', { body: ['text'] }, ['body']],
        ['body is an object', { body: { text: 'x' } }, ['body']],
        ['an unknown property', { body: 'ok', extra: 1 }, ['extra']],
        [
          'read-only properties',
          { body: 'ok', authorId: UNKNOWN_ID, taskId: UNKNOWN_ID, version: 3 },
          ['authorId', 'taskId', 'version'],
        ],
        ['a bad body and an unknown property', { body: 5, pinned: true }, ['body', 'pinned']],
      ])('%s → 400 VALIDATION_FAILED naming it, nothing created', async (_label, body, fields) => {
        const before = await countComments('task_id = $1', [task.id]);
        expectValidationFailed(await as(owner).post(taskCommentsUrl(task.id), body), fields);
        expect(await countComments('task_id = $1', [task.id])).toBe(before);
      });

      it('malformed JSON → 400 MALFORMED_BODY', async () => {
        const res = await t
          .http()
          .post(taskCommentsUrl(task.id))
          .set(bearer(owner.accessToken))
          .set('Content-Type', 'application/json')
          .send('{"body": "unterminated');
        expectError(res, 400, 'MALFORMED_BODY');
      });

      it.each([
        ['text/plain', 'just text'],
        ['application/x-www-form-urlencoded', 'body=hello'],
        ['application/xml', '<body>hello</body>'],
      ])('a %s body → 415 UNSUPPORTED_MEDIA_TYPE, nothing created', async (type, payload) => {
        const before = await countComments('task_id = $1', [task.id]);
        const res = await t
          .http()
          .post(taskCommentsUrl(task.id))
          .set(bearer(owner.accessToken))
          .set('Content-Type', type)
          .send(payload);
        expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
        expect(await countComments('task_id = $1', [task.id])).toBe(before);
      });
    });

    it('a malformed task id is 400 naming taskId; an unknown task 404', async () => {
      for (const id of ['123', 'not-a-uuid', `${task.id}x`]) {
        expectValidationFailed(await as(owner).post(taskCommentsUrl(id), { body: 'x' }), ['taskId']);
      }
      expectError(await as(owner).post(taskCommentsUrl(UNKNOWN_ID), { body: 'x' }), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('GET /tasks/{taskId}/comments', () => {
    let listed: TaskBody;
    let written: CommentBody[];

    beforeAll(async () => {
      listed = await createTask();
      written = [];
      const authors = [owner, org.users.admin, org.users.member, org.users.viewer];
      for (let i = 0; i < 7; i++) written.push(await createComment(authors[i % 4], listed.id, `List ${i}`));
      // A comment on another task never shows up here.
      await createComment(owner, task.id, 'elsewhere');
    });

    it.each(['owner', 'admin', 'member', 'viewer'] as const)(
      "every member sees the task's comments, oldest first by default (%s)",
      async (role) => {
        const res = await as(org.users[role]).get(taskCommentsUrl(listed.id));
        const { data, page } = expectList<CommentBody>(res);
        expect(page).toEqual({ limit: 20, nextCursor: null });
        expect(data).toEqual([...written].sort(byCreatedAtThenId));
        for (const comment of data) expect(Object.keys(comment).sort()).toEqual(COMMENT_KEYS);
        expect(res.headers.etag).toBeUndefined();
      },
    );

    it('sort=createdAt is the default order; sort=-createdAt is its exact reverse', async () => {
      const ascending = expectItems<CommentBody>(
        await as(owner).get(taskCommentsUrl(listed.id)).query({ sort: 'createdAt' }),
      );
      expect(ascending).toEqual(await listAll(listed.id));
      const descending = expectItems<CommentBody>(
        await as(owner).get(taskCommentsUrl(listed.id)).query({ sort: '-createdAt' }),
      );
      expect(descending).toEqual([...ascending].reverse());
    });

    it('a task without comments lists none', async () => {
      const empty = await createTask();
      expect(expectList(await as(org.users.viewer).get(taskCommentsUrl(empty.id)))).toEqual({
        data: [],
        page: { limit: 20, nextCursor: null },
      });
    });

    it.each([
      ['sort', { sort: 'updatedAt' }],
      ['sort', { sort: 'created_at' }],
      ['sort', { sort: '' }],
      ['limit', { limit: '0' }],
      ['limit', { limit: '101' }],
      ['limit', { limit: 'ten' }],
      ['limit', { limit: '2.5' }],
    ])('a bad %s (%j) is 400 naming it', async (field, query) => {
      expectValidationFailed(await as(owner).get(taskCommentsUrl(listed.id)).query(query), [field]);
    });

    it('a malformed task id is 400 naming taskId; an unknown task 404', async () => {
      expectValidationFailed(await as(owner).get(taskCommentsUrl('nope')), ['taskId']);
      expectError(await as(owner).get(taskCommentsUrl(UNKNOWN_ID)), 404, 'NOT_FOUND');
    });

    describe('pagination', () => {
      let paged: TaskBody;
      let all: CommentBody[];

      beforeAll(async () => {
        paged = await createTask();
        for (let i = 0; i < 13; i++) await createComment(org.users.member, paged.id, `Page ${i}`);
        // Ties on createdAt (three comments per instant), so that the id tie-break matters.
        await t.dataSource.query(
          `UPDATE comments c SET created_at = '2001-01-01T00:00:00Z'::timestamptz + (r.n / 3) * interval '1 second'
             FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM comments WHERE task_id = $1) r
            WHERE c.id = r.id`,
          [paged.id],
        );
        all = await listAll(paged.id);
        expect(all).toHaveLength(13);
      });

      const page = (query: Record<string, string | number>, user = owner): Promise<Response> =>
        as(user).get(taskCommentsUrl(paged.id)).query(query);

      it('the data set has ties on createdAt, ordered by id within a tie', () => {
        expect(new Set(all.map((c) => c.createdAt)).size).toBeLessThan(all.length);
        expect(all).toEqual([...all].sort(byCreatedAtThenId));
      });

      it.each([1, 2, 5, 13, 100])('limit %i: walking nextCursor gives every comment once, in order', async (limit) => {
        const seen = await walkPages<CommentBody>(
          (cursor) => page({ limit, ...(cursor ? { cursor } : {}) }),
          limit,
          14,
        );
        expect(seen).toEqual(all);
      });

      it('-createdAt walks the exact reverse (the id tie-break descends too)', async () => {
        const seen = await walkPages<CommentBody>(
          (cursor) => page({ limit: 4, sort: '-createdAt', ...(cursor ? { cursor } : {}) }),
          4,
          4,
        );
        expect(seen).toEqual([...all].reverse());
      });

      it('a comment added while paging shows up at the end, nothing repeated or skipped', async () => {
        const first = expectList<CommentBody>(await page({ limit: 5 }));
        const added = await createComment(owner, paged.id, 'late');
        const rest = await walkPages<CommentBody>(
          (cursor) => page({ limit: 5, cursor: cursor ?? first.page.nextCursor! }),
          5,
          3,
        );
        expect([...first.data, ...rest]).toEqual([...all, added]);
        expectNoContent(await as(owner).delete(commentUrl(added.id)));
      });

      it('a cursor works for any member (it is about the list, not the caller)', async () => {
        const cursor = expectList<CommentBody>(await page({ limit: 4 })).page.nextCursor!;
        expect(expectItems<CommentBody>(await page({ limit: 4, cursor }, org.users.viewer))).toEqual(all.slice(4, 8));
      });

      describe('INVALID_CURSOR', () => {
        let cursor: string;
        beforeAll(async () => {
          cursor = expectList<CommentBody>(await page({ limit: 3 })).page.nextCursor!;
          expect(typeof cursor).toBe('string');
        });

        const expectInvalidCursor = (res: Response): void => {
          const error = expectError(res, 400, 'INVALID_CURSOR');
          expect(JSON.stringify(error)).not.toMatch(/select|postgres|stack|typeorm/i);
        };

        it('is opaque: no id, timestamp or body in clear', () => {
          for (const comment of all) expect(cursor).not.toContain(comment.id);
          expect(cursor).not.toMatch(/2001|Page/);
        });

        it.each(['garbage', 'a.b', '..', 'x'.repeat(3000), '{"s":"x","p":[1,"y"]}'])(
          'rejects a made-up cursor (%s)',
          async (bad) => {
            expectInvalidCursor(await page({ limit: 3, cursor: bad }));
          },
        );

        it('rejects an edited payload or signature', async () => {
          const [payload, signature] = cursor.split('.');
          for (const index of [0, Math.floor(payload.length / 2), payload.length - 2]) {
            expectInvalidCursor(await page({ limit: 3, cursor: `${flipCharacter(payload, index)}.${signature}` }));
          }
          for (const index of [0, signature.length - 1]) {
            expectInvalidCursor(await page({ limit: 3, cursor: `${payload}.${flipCharacter(signature, index)}` }));
          }
          expectInvalidCursor(await page({ limit: 3, cursor: payload }));
        });

        it("rejects a cursor from another task's list", async () => {
          const other = expectList<CommentBody>(await as(owner).get(taskCommentsUrl(listed.id)).query({ limit: 2 }));
          expect(other.page.nextCursor).not.toBeNull();
          expectInvalidCursor(await page({ limit: 2, cursor: other.page.nextCursor! }));
          // ...and the other way round.
          expectInvalidCursor(await as(owner).get(taskCommentsUrl(listed.id)).query({ limit: 3, cursor }));
        });

        it('rejects a cursor from the other sort', async () => {
          expectInvalidCursor(await page({ limit: 3, sort: '-createdAt', cursor }));
        });

        it('rejects a cursor from another kind of list (the project tasks)', async () => {
          const tasks = expectList<TaskBody>(
            await as(owner).get(`/api/v1/projects/${project.id}/tasks`).query({ limit: 1 }),
          );
          expectInvalidCursor(await page({ limit: 1, cursor: tasks.page.nextCursor! }));
        });
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('PATCH /comments/{commentId}', () => {
    it('the author edits the body: 200, version 2, ETag "2", updatedAt advances', async () => {
      const comment = await createComment(org.users.member);
      const res = await as(org.users.member).patch(commentUrl(comment.id), { body: '  Edited ✍️  ' });
      const updated = expectData<CommentBody>(res);
      expect(Object.keys(updated).sort()).toEqual(COMMENT_KEYS);
      expect(updated).toEqual({
        ...comment,
        body: '  Edited ✍️  ',
        version: 2,
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      expect(updated.updatedAt >= comment.updatedAt).toBe(true);
      expect(res.headers.etag).toBe(etag(2));
      expect(await commentRow(comment.id)).toEqual(updated);
      const third = await as(org.users.member).patch(commentUrl(comment.id), { body: 'Third' });
      expect(expectData<CommentBody>(third)).toMatchObject({ body: 'Third', version: 3 });
      expect(third.headers.etag).toBe(etag(3));
    });

    it('a viewer edits their own comment', async () => {
      const comment = await createComment(org.users.viewer);
      expect(
        expectData<CommentBody>(await as(org.users.viewer).patch(commentUrl(comment.id), { body: 'v' })),
      ).toMatchObject({ body: 'v', version: 2 });
    });

    it('the same body again is 200 with no new version, no new updatedAt and no audit event', async () => {
      const comment = await createComment(org.users.member, task.id, ' same ');
      const res = await as(org.users.member).patch(commentUrl(comment.id), { body: ' same ' });
      expect(expectData<CommentBody>(res)).toEqual(comment);
      expect(res.headers.etag).toBe(etag(1));
      expect(await commentRow(comment.id)).toEqual(comment);
      const events = await auditEvents(t, org.orgId, owner, { entityId: comment.id });
      expect(events.map((e) => e.action)).toEqual(['comment.created']);
      // Whitespace is content: a body that differs only in it is a change.
      expect(
        expectData<CommentBody>(await as(org.users.member).patch(commentUrl(comment.id), { body: 'same' })),
      ).toMatchObject({ body: 'same', version: 2 });
    });

    it.each(['owner', 'admin', 'viewer'] as const)(
      "another member may not edit someone's comment, even the org's %s: 403, unchanged",
      async (role) => {
        const comment = await createComment(org.users.member);
        expectError(await as(org.users[role]).patch(commentUrl(comment.id), { body: 'hijack' }), 403, 'FORBIDDEN');
        expect(await commentRow(comment.id)).toEqual(comment);
      },
    );

    it('a member may not edit the owner’s comment either', async () => {
      const comment = await createComment(owner);
      expectError(await as(org.users.member).patch(commentUrl(comment.id), { body: 'x' }), 403, 'FORBIDDEN');
      expect(await commentRow(comment.id)).toEqual(comment);
    });

    describe('strict body', () => {
      let comment: CommentBody;
      beforeAll(async () => {
        comment = await createComment(org.users.member);
      });
      afterEach(async () => {
        expect(await commentRow(comment.id)).toEqual(comment);
      });

      it.each([
        ['body is missing', {}, ['body']],
        ['body is empty', { body: '' }, ['body']],
        ['body is whitespace only', { body: '\n \t' }, ['body']],
        ['body is 10,001 characters', { body: 'z'.repeat(10_001) }, ['body']],
        ['body is a number', { body: 123 }, ['body']],
        ['body is true', { body: true }, ['body']],
        ['body is null', { body: null }, ['body']],
        ['an unknown property', { body: 'ok', taskId: UNKNOWN_ID }, ['taskId']],
        ['version in the body', { body: 'ok', version: 1 }, ['version']],
      ])('%s → 400 VALIDATION_FAILED naming it, unchanged', async (_label, body, fields) => {
        expectValidationFailed(await as(org.users.member).patch(commentUrl(comment.id), body), fields);
      });

      it('10,000 characters are fine', async () => {
        const body = 'k'.repeat(10_000);
        const updated = expectData<CommentBody>(await as(org.users.member).patch(commentUrl(comment.id), { body }));
        expect(updated).toMatchObject({ body, version: comment.version + 1 });
        comment = updated;
      });

      it('malformed JSON → 400 MALFORMED_BODY', async () => {
        const res = await t
          .http()
          .patch(commentUrl(comment.id))
          .set(bearer(org.users.member.accessToken))
          .set('Content-Type', 'application/json')
          .send('{body: x}');
        expectError(res, 400, 'MALFORMED_BODY');
      });

      it('a text/plain body → 415 UNSUPPORTED_MEDIA_TYPE', async () => {
        const res = await t
          .http()
          .patch(commentUrl(comment.id))
          .set(bearer(org.users.member.accessToken))
          .set('Content-Type', 'text/plain')
          .send('new body');
        expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
      });
    });

    it('a malformed comment id is 400 naming commentId; an unknown comment 404', async () => {
      for (const id of ['123', 'zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz']) {
        expectValidationFailed(await as(owner).patch(commentUrl(id), { body: 'x' }), ['commentId']);
      }
      expectError(await as(owner).patch(commentUrl(UNKNOWN_ID), { body: 'x' }), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('DELETE /comments/{commentId}', () => {
    it('the author deletes: 204 without a body; then PATCH and DELETE are 404 and the row is gone', async () => {
      const comment = await createComment(org.users.viewer);
      expectNoContent(await as(org.users.viewer).delete(commentUrl(comment.id)));
      expect(await commentRow(comment.id)).toBeUndefined();
      expect((await listAll()).map((c) => c.id)).not.toContain(comment.id);
      expectError(await as(org.users.viewer).patch(commentUrl(comment.id), { body: 'x' }), 404, 'NOT_FOUND');
      expectError(await as(org.users.viewer).delete(commentUrl(comment.id)), 404, 'NOT_FOUND');
    });

    it.each(['owner', 'admin'] as const)("an org %s deletes someone else's comment", async (role) => {
      const comment = await createComment(org.users.member);
      expectNoContent(await as(org.users[role]).delete(commentUrl(comment.id)));
      expect(await commentRow(comment.id)).toBeUndefined();
    });

    it("an owner deletes an admin's comment, an admin the owner's", async () => {
      const byAdmin = await createComment(org.users.admin);
      const byOwner = await createComment(owner);
      expectNoContent(await as(owner).delete(commentUrl(byAdmin.id)));
      expectNoContent(await as(org.users.admin).delete(commentUrl(byOwner.id)));
      expect(await countComments('id = ANY($1)', [[byAdmin.id, byOwner.id]])).toBe(0);
    });

    it.each([
      ['member', 'viewer'],
      ['viewer', 'member'],
      ['member', 'owner'],
    ] as const)("a %s may not delete the %s's comment: 403, kept", async (caller, author) => {
      const comment = await createComment(org.users[author]);
      expectError(await as(org.users[caller]).delete(commentUrl(comment.id)), 403, 'FORBIDDEN');
      expect(await commentRow(comment.id)).toEqual(comment);
    });

    it('a malformed comment id is 400 naming commentId; an unknown comment 404', async () => {
      expectValidationFailed(await as(owner).delete(commentUrl('42')), ['commentId']);
      expectError(await as(owner).delete(commentUrl(UNKNOWN_ID)), 404, 'NOT_FOUND');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('ETag and If-Match', () => {
    it.each(['PATCH', 'DELETE'] as const)('%s with a stale If-Match is 412 and changes nothing', async (method) => {
      const comment = await createComment(org.users.member);
      const v2 = expectData<CommentBody>(await as(org.users.member).patch(commentUrl(comment.id), { body: 'v2' }));
      const req =
        method === 'PATCH'
          ? as(org.users.member).patch(commentUrl(comment.id), { body: 'v3' })
          : as(org.users.member).delete(commentUrl(comment.id));
      expectError(await req.set('If-Match', etag(1)), 412, 'PRECONDITION_FAILED');
      expect(await commentRow(comment.id)).toEqual(v2);
    });

    it('the current ETag and * go through; weak or foreign tags are 412', async () => {
      const comment = await createComment(org.users.member);
      const v2 = await as(org.users.member).patch(commentUrl(comment.id), { body: 'two' }).set('If-Match', etag(1));
      expect(expectData<CommentBody>(v2)).toMatchObject({ body: 'two', version: 2 });
      expect(v2.headers.etag).toBe(etag(2));
      const v3 = await as(org.users.member)
        .patch(commentUrl(comment.id), { body: 'three' })
        .set('If-Match', `"7", ${etag(2)}`);
      expect(expectData<CommentBody>(v3)).toMatchObject({ body: 'three', version: 3 });
      const v4 = await as(org.users.member).patch(commentUrl(comment.id), { body: 'four' }).set('If-Match', '*');
      const current = expectData<CommentBody>(v4);
      expect(current).toMatchObject({ body: 'four', version: 4 });
      for (const tag of ['W/"4"', '4', '"abc"']) {
        expectError(
          await as(org.users.member).patch(commentUrl(comment.id), { body: 'five' }).set('If-Match', tag),
          412,
          'PRECONDITION_FAILED',
        );
      }
      expectError(await as(owner).delete(commentUrl(comment.id)).set('If-Match', etag(3)), 412, 'PRECONDITION_FAILED');
      expect(await commentRow(comment.id)).toEqual(current);
      expectNoContent(await as(owner).delete(commentUrl(comment.id)).set('If-Match', etag(4)));
      expect(await commentRow(comment.id)).toBeUndefined();
    });

    it('a no-op PATCH still checks If-Match', async () => {
      const comment = await createComment(org.users.member, task.id, 'static');
      expectError(
        await as(org.users.member).patch(commentUrl(comment.id), { body: 'static' }).set('If-Match', etag(2)),
        412,
        'PRECONDITION_FAILED',
      );
      const res = await as(org.users.member).patch(commentUrl(comment.id), { body: 'static' }).set('If-Match', etag(1));
      expect(expectData<CommentBody>(res)).toEqual(comment);
    });

    it('8 parallel PATCHes with the same If-Match: exactly one 200, the rest 412', async () => {
      const comment = await createComment(org.users.member);
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          as(org.users.member)
            .patch(commentUrl(comment.id), { body: `Racer ${i}` })
            .set('If-Match', etag(1)),
        ),
      );
      const winners = results.filter((res) => res.status === 200);
      expect(winners).toHaveLength(1);
      for (const res of results.filter((r) => r.status !== 200)) expectError(res, 412, 'PRECONDITION_FAILED');
      const won = expectData<CommentBody>(winners[0]);
      expect(won.version).toBe(2);
      expect(await commentRow(comment.id)).toEqual(won);
      const updates = await auditEvents(t, org.orgId, owner, { entityId: comment.id, action: 'comment.updated' });
      expect(updates).toHaveLength(1);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('Idempotency-Key on POST /tasks/{taskId}/comments', () => {
    const post = (user: SignedInUser, key: string, body: object, taskId = task.id) =>
      t.http().post(taskCommentsUrl(taskId)).set(bearer(user.accessToken)).set('Idempotency-Key', key).send(body);

    it('the same key and body replays the first response (same id, Location, ETag) and creates one comment', async () => {
      const key = idemKey();
      const body = { body: uniqueText('idem') };
      const first = await post(org.users.viewer, key, body);
      const created = expectData<CommentBody>(first, 201);
      expect(first.headers['idempotent-replayed']).toBeUndefined();

      const again = await post(org.users.viewer, key, { body: body.body });
      expect(expectData<CommentBody>(again, 201)).toEqual(created);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(`/api/v1/comments/${created.id}`);
      expect(again.headers.etag).toBe(etag(1));
      expect(again.body.meta.requestId).not.toBe(first.body.meta.requestId);
      expect(await countComments('body = $1', [body.body])).toBe(1);
      const events = await auditEvents(t, org.orgId, owner, { entityId: created.id });
      expect(events.map((e) => e.action)).toEqual(['comment.created']);
    });

    it('the same key with another body is 422 IDEMPOTENCY_KEY_REUSED, nothing created', async () => {
      const key = idemKey();
      expectData(await post(owner, key, { body: uniqueText('first') }), 201);
      const second = uniqueText('second');
      expectError(await post(owner, key, { body: second }), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await countComments('body = $1', [second])).toBe(0);
    });

    it('the same key and body on another task is 422, nothing created there', async () => {
      const other = await createTask();
      const key = idemKey();
      const body = { body: uniqueText('path') };
      expectData(await post(owner, key, body), 201);
      expectError(await post(owner, key, body, other.id), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(await countComments('task_id = $1', [other.id])).toBe(0);
    });

    it('the same key from another user creates their own comment', async () => {
      const key = idemKey();
      const body = { body: uniqueText('shared') };
      const mine = expectData<CommentBody>(await post(owner, key, body), 201);
      const res = await post(org.users.member, key, body);
      const theirs = expectData<CommentBody>(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(theirs.id).not.toBe(mine.id);
      expect(theirs.authorId).toBe(org.users.member.id);
      expect(await countComments('body = $1', [body.body])).toBe(2);
    });

    it('a request that failed validation leaves the key free', async () => {
      const key = idemKey();
      expectValidationFailed(await post(owner, key, { body: '   ' }), ['body']);
      const body = { body: uniqueText('after-failure') };
      const res = await post(owner, key, body);
      expectData(res, 201);
      expect(res.headers['idempotent-replayed']).toBeUndefined();
    });

    it('a replay to someone who has left the org is 404 and shows nothing', async () => {
      const leaver = await joinOrg();
      const key = idemKey();
      const body = { body: uniqueText('secret') };
      expectData(await post(leaver, key, body), 201);
      await leaveOrg(leaver);
      const res = await post(leaver, key, body);
      expectError(res, 404, 'NOT_FOUND');
      expect(res.headers['idempotent-replayed']).toBeUndefined();
      expect(JSON.stringify(res.body)).not.toContain(body.body);
      expect(await countComments('body = $1', [body.body])).toBe(1);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('role matrix', () => {
    type Expected = Record<Caller, number>;
    interface RouteCase {
      route: string;
      expected: Expected;
      send(user: SignedInUser, comment: CommentBody, taskId: string): Promise<Response>;
    }
    // The target comment is always the member's.
    const routes: RouteCase[] = [
      {
        route: 'GET /tasks/{taskId}/comments',
        expected: { owner: 200, admin: 200, member: 200, viewer: 200, outsider: 404 },
        send: (user, _c, taskId) => as(user).get(taskCommentsUrl(taskId)),
      },
      {
        route: 'POST /tasks/{taskId}/comments',
        expected: { owner: 201, admin: 201, member: 201, viewer: 201, outsider: 404 },
        send: (user, _c, taskId) => as(user).post(taskCommentsUrl(taskId), { body: 'Matrix' }),
      },
      {
        route: "PATCH /comments/{commentId} (the member's)",
        expected: { owner: 403, admin: 403, member: 200, viewer: 403, outsider: 404 },
        send: (user, comment) => as(user).patch(commentUrl(comment.id), { body: 'Matrix edit' }),
      },
      {
        route: "DELETE /comments/{commentId} (the member's)",
        expected: { owner: 204, admin: 204, member: 204, viewer: 403, outsider: 404 },
        send: (user, comment) => as(user).delete(commentUrl(comment.id)),
      },
    ];

    describe.each(routes)('$route', ({ expected, send }) => {
      it.each(ROLES)('%s', async (role) => {
        const target = await createTask();
        const comment = await createComment(org.users.member, target.id, 'Target');
        const res = await send(org.users[role], comment, target.id);
        const status = expected[role];
        if (status === 200 && Array.isArray(res.body.data)) {
          expect(expectItems<CommentBody>(res)).toEqual([comment]);
        } else if (status === 200) {
          expect(expectData<CommentBody>(res)).toMatchObject({ id: comment.id, body: 'Matrix edit', version: 2 });
        } else if (status === 201) {
          expect(expectData<CommentBody>(res, 201)).toMatchObject({ taskId: target.id, authorId: org.users[role].id });
          expect(await countComments('task_id = $1', [target.id])).toBe(2);
        } else if (status === 204) {
          expectNoContent(res);
          expect(await countComments('task_id = $1', [target.id])).toBe(0);
        } else {
          expectError(res, status, status === 403 ? 'FORBIDDEN' : 'NOT_FOUND');
          expect(JSON.stringify(res.body)).not.toContain('Target');
          // Refused: the task still has exactly the one, unchanged comment.
          expect(await listAll(target.id)).toEqual([comment]);
        }
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('tenancy', () => {
    let secret: CommentBody;
    let otherComment: CommentBody;

    beforeAll(async () => {
      secret = await createComment(org.users.member, task.id, 'Secret of A');
      otherComment = expectData<CommentBody>(
        await as(otherOwner).post(taskCommentsUrl(otherTask.id), { body: 'Comment of B' }),
        201,
      );
    });

    it.each([
      ['GET the comments', () => as(org.users.outsider).get(taskCommentsUrl(task.id))],
      ['POST a comment', () => as(org.users.outsider).post(taskCommentsUrl(task.id), { body: 'Injected' })],
      [
        'POST a comment with an Idempotency-Key',
        () =>
          as(org.users.outsider).post(taskCommentsUrl(task.id), { body: 'Injected' }).set('Idempotency-Key', idemKey()),
      ],
      ['PATCH the comment', () => as(org.users.outsider).patch(commentUrl(secret.id), { body: 'Hijacked' })],
      [
        'PATCH the comment with If-Match',
        () => as(org.users.outsider).patch(commentUrl(secret.id), { body: 'Hijacked' }).set('If-Match', etag(1)),
      ],
      ['DELETE the comment', () => as(org.users.outsider).delete(commentUrl(secret.id))],
      ['GET the comments (owner of B)', () => as(otherOwner).get(taskCommentsUrl(task.id))],
      ['POST a comment (owner of B)', () => as(otherOwner).post(taskCommentsUrl(task.id), { body: 'Injected' })],
      ['PATCH the comment (owner of B)', () => as(otherOwner).patch(commentUrl(secret.id), { body: 'Hijacked' })],
      ['DELETE the comment (owner of B)', () => as(otherOwner).delete(commentUrl(secret.id))],
      ["GET B's comments (owner of A)", () => as(owner).get(taskCommentsUrl(otherTask.id))],
      ["POST to B's task (owner of A)", () => as(owner).post(taskCommentsUrl(otherTask.id), { body: 'Injected' })],
      ["PATCH B's comment (owner of A)", () => as(owner).patch(commentUrl(otherComment.id), { body: 'Hijacked' })],
      ["DELETE B's comment (owner of A)", () => as(owner).delete(commentUrl(otherComment.id))],
    ])('%s → 404 NOT_FOUND', async (_label, send) => {
      const res = await send();
      expectError(res, 404, 'NOT_FOUND');
      expect(JSON.stringify(res.body)).not.toMatch(/Secret of A|Comment of B/);
    });

    it('left both orgs exactly as they were', async () => {
      expect(await commentRow(secret.id)).toEqual(secret);
      expect(await commentRow(otherComment.id)).toEqual(otherComment);
      expect(await countComments('body = $1', ['Injected'])).toBe(0);
      expect(await countComments('body = $1', ['Hijacked'])).toBe(0);
      expect(await listAll(otherTask.id, otherOwner)).toEqual([otherComment]);
      expect(await auditEvents(t, org.orgId, owner, { actorId: otherOwner.id })).toEqual([]);
      expect(await auditEvents(t, org.orgId, owner, { actorId: org.users.outsider.id })).toEqual([]);
    });

    it('an author who has left the org gets 404 on everything, their comment stays for the admins', async () => {
      const leaver = await joinOrg('member');
      const comment = await createComment(leaver, task.id, 'Before leaving');
      await leaveOrg(leaver);
      expectError(await as(leaver).get(taskCommentsUrl(task.id)), 404, 'NOT_FOUND');
      expectError(await as(leaver).post(taskCommentsUrl(task.id), { body: 'After' }), 404, 'NOT_FOUND');
      expectError(await as(leaver).patch(commentUrl(comment.id), { body: 'After' }), 404, 'NOT_FOUND');
      expectError(await as(leaver).delete(commentUrl(comment.id)), 404, 'NOT_FOUND');
      expect(await commentRow(comment.id)).toEqual(comment);
      expectNoContent(await as(org.users.admin).delete(commentUrl(comment.id)));
      expect(await commentRow(comment.id)).toBeUndefined();
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('authentication', () => {
    it.each([
      ['GET', () => t.http().get(taskCommentsUrl(task.id))],
      ['POST', () => t.http().post(taskCommentsUrl(task.id)).send({ body: 'anon' })],
      ['PATCH', () => t.http().patch(commentUrl(UNKNOWN_ID)).send({ body: 'anon' })],
      ['DELETE', () => t.http().delete(commentUrl(UNKNOWN_ID))],
      [
        'POST with a bogus token',
        () => t.http().post(taskCommentsUrl(task.id)).set(bearer('x.y.z')).send({ body: 'anon' }),
      ],
    ])('%s without a valid token → 401', async (_label, send) => {
      expectUnauthenticated(await send());
      expect(await countComments('body = $1', ['anon'])).toBe(0);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('deleting the task', () => {
    it('removes its comments: the list is 404, the comments are 404 and the rows are gone', async () => {
      const doomed = await createTask();
      const comments = [
        await createComment(org.users.member, doomed.id),
        await createComment(org.users.viewer, doomed.id),
        await createComment(owner, doomed.id),
      ];
      const survivor = await createComment(org.users.member, task.id, 'survivor');
      expectNoContent(await as(owner).delete(`/api/v1/tasks/${doomed.id}`));

      expectError(await as(owner).get(taskCommentsUrl(doomed.id)), 404, 'NOT_FOUND');
      expectError(await as(owner).post(taskCommentsUrl(doomed.id), { body: 'late' }), 404, 'NOT_FOUND');
      for (const comment of comments) {
        expectError(await as(owner).patch(commentUrl(comment.id), { body: 'x' }), 404, 'NOT_FOUND');
        expectError(await as(owner).delete(commentUrl(comment.id)), 404, 'NOT_FOUND');
      }
      expect(await countComments('task_id = $1', [doomed.id])).toBe(0);
      expect(await countComments('id = ANY($1)', [comments.map((c) => c.id)])).toBe(0);
      expect(await commentRow(survivor.id)).toEqual(survivor);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('audit events', () => {
    const requestId = (label: string): string => `cm-${label}-${randomBytes(6).toString('hex')}`;

    it('comment.created, comment.updated and comment.deleted, with the changes and the request id', async () => {
      const member = org.users.member;
      const createId = requestId('create');
      const created = await as(member)
        .post(taskCommentsUrl(task.id), { body: ' Audited ' })
        .set('X-Request-Id', createId);
      const comment = expectData<CommentBody>(created, 201);
      expect(created.headers['x-request-id']).toBe(createId);

      const updateId = requestId('update');
      expectData(
        await as(member).patch(commentUrl(comment.id), { body: 'Audited, edited' }).set('X-Request-Id', updateId),
      );
      const deleteId = requestId('delete');
      // Deleted by an admin: the actor is the admin, not the author.
      expectNoContent(await as(org.users.admin).delete(commentUrl(comment.id)).set('X-Request-Id', deleteId));

      const events = await auditEvents(t, org.orgId, owner, { entityType: 'comment', entityId: comment.id });
      const base = {
        actorType: 'user',
        id: expect.stringMatching(UUID),
        orgId: org.orgId,
        entityType: 'comment',
        entityId: comment.id,
        createdAt: expect.stringMatching(ISO_UTC),
      };
      expect(events).toEqual([
        {
          ...base,
          action: 'comment.deleted',
          actorId: org.users.admin.id,
          changes: { taskId: [task.id, null], body: ['Audited, edited', null] },
          requestId: deleteId,
        },
        {
          ...base,
          action: 'comment.updated',
          actorId: member.id,
          changes: { body: [' Audited ', 'Audited, edited'] },
          requestId: updateId,
        },
        {
          ...base,
          action: 'comment.created',
          actorId: member.id,
          changes: { taskId: [null, task.id], body: [null, ' Audited '] },
          requestId: createId,
        },
      ]);
      expect(await auditEvents(t, org.orgId, owner, { action: 'comment.created', entityId: comment.id })).toHaveLength(
        1,
      );
    });

    it('failed writes (400, 403, 404, 412, a no-op PATCH) leave no event', async () => {
      const comment = await createComment(org.users.member);
      const before = await auditEvents(t, org.orgId, owner, { entityType: 'comment' });

      expectValidationFailed(await as(owner).post(taskCommentsUrl(task.id), { body: '' }), ['body']);
      expectValidationFailed(await as(org.users.member).patch(commentUrl(comment.id), { body: 1 }), ['body']);
      expectError(await as(owner).patch(commentUrl(comment.id), { body: 'x' }), 403, 'FORBIDDEN');
      expectError(await as(org.users.viewer).delete(commentUrl(comment.id)), 403, 'FORBIDDEN');
      expectError(await as(org.users.outsider).post(taskCommentsUrl(task.id), { body: 'x' }), 404, 'NOT_FOUND');
      expectError(
        await as(org.users.member).patch(commentUrl(comment.id), { body: 'x' }).set('If-Match', etag(9)),
        412,
        'PRECONDITION_FAILED',
      );
      expectError(await as(owner).delete(commentUrl(comment.id)).set('If-Match', etag(9)), 412, 'PRECONDITION_FAILED');
      expectData(await as(org.users.member).patch(commentUrl(comment.id), { body: comment.body }));

      expect(await auditEvents(t, org.orgId, owner, { entityType: 'comment' })).toEqual(before);
      expect(await commentRow(comment.id)).toEqual(comment);
    });
  });
});
