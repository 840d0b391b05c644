import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { TASK_KEYS, TaskBody } from './support/bodies';
import {
  expectError,
  expectList,
  expectStatus,
  expectValidationFailed,
  flipCharacter,
  walkPages,
} from './support/envelope';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser, SignedInUser } from './support/users';

// ---------------------------------------------------------------------------------------------
// Types and envelope helpers
// ---------------------------------------------------------------------------------------------

const STATUSES = ['todo', 'in_progress', 'done', 'canceled'] as const;
const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
const RANK: Record<string, number> = { low: 1, medium: 2, high: 3, urgent: 4 };
const SORTS = [
  'createdAt',
  '-createdAt',
  'updatedAt',
  '-updatedAt',
  'dueDate',
  '-dueDate',
  'priority',
  '-priority',
  'number',
  '-number',
] as const;
const LIMITS = [1, 3, 7, 100];
type Query = Record<string, string | number | string[]>;

const expectInvalidCursor = (res: Response): void => {
  const error = expectError(res, 400, 'INVALID_CURSOR');
  expect(JSON.stringify(error)).not.toMatch(/select|postgres|stack|typeorm/i);
};

const compare = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);

// ---------------------------------------------------------------------------------------------
// The data set, and the contract's semantics computed from it
// ---------------------------------------------------------------------------------------------

const TITLE_TOPICS = ['login page', 'database migration', 'search index', 'billing report', 'mobile layout'];
const DESCRIPTIONS = [
  'crashes when offline',
  'slow under load on the quokka cluster',
  'fails on startup with a timeout',
  'wrong totals for the quarter',
  '',
  'needs a review from security',
  'load is fine but under the hood it is slow',
];

/** Words as PostgreSQL's 'simple' configuration sees this plain text (letters, digits, spaces). */
const words = (text: string): string[] =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

/**
 * websearch_to_tsquery semantics for the subset used here: `or` separates alternatives, each an
 * AND of terms; a term is a word, a "quoted phrase" (adjacent words) or a -negated word.
 */
function fullTextMatches(task: { title: string; description: string }, q: string): boolean {
  const document = words(`${task.title} ${task.description}`);
  const hasPhrase = (phrase: string[]): boolean =>
    document.some((_, start) => phrase.every((w, k) => document[start + k] === w));
  const terms = q.match(/-?"[^"]*"|\S+/g) ?? [];
  const alternatives: string[][] = [[]];
  for (const term of terms) {
    if (term.toLowerCase() === 'or') alternatives.push([]);
    else alternatives[alternatives.length - 1].push(term);
  }
  return alternatives.some(
    (alternative) =>
      alternative.length > 0 &&
      alternative.every((term) => {
        const negated = term.startsWith('-');
        const phrase = words(term.replace(/^-/, ''));
        return negated ? !hasPhrase(phrase) : hasPhrase(phrase);
      }),
  );
}

/** A list value as the API reads it: repeated or comma-separated. */
const listValue = (value: string | number | string[]): string[] =>
  (Array.isArray(value) ? value : [String(value)]).flatMap((v) => v.split(','));

/** Does this task pass every filter of the query (as the contract defines them)? */
function passes(task: TaskBody, query: Query, callerId: string): boolean {
  for (const [name, value] of Object.entries(query)) {
    switch (name) {
      case 'status':
        if (!listValue(value).includes(task.status)) return false;
        break;
      case 'priority':
        if (!listValue(value).includes(task.priority)) return false;
        break;
      case 'assigneeId': {
        const wanted = String(value).toLowerCase();
        if (wanted === 'none' ? task.assigneeId !== null : task.assigneeId !== (wanted === 'me' ? callerId : wanted))
          return false;
        break;
      }
      case 'label':
        if (!task.labels.includes(String(value).trim())) return false;
        break;
      case 'q':
        if (!fullTextMatches(task, String(value))) return false;
        break;
      case 'dueBefore':
        if (task.dueDate === null || task.dueDate > String(value)) return false;
        break;
      case 'dueAfter':
        if (task.dueDate === null || task.dueDate < String(value)) return false;
        break;
      case 'sort':
      case 'limit':
      case 'cursor':
        break;
      default:
        throw new Error(`no model for the filter ${name}`);
    }
  }
  return true;
}

function sortValue(task: TaskBody, key: string): string | number | null {
  switch (key) {
    case 'createdAt':
      return task.createdAt;
    case 'updatedAt':
      return task.updatedAt;
    case 'dueDate':
      return task.dueDate;
    case 'priority':
      return RANK[task.priority];
    case 'number':
      return task.number;
  }
  throw new Error(`no model for the sort ${key}`);
}

/**
 * The order the contract requires: the sort key, then the id, both in the sort's direction;
 * a null sort value (no due date) comes last in both directions.
 */
function expectedOrder(tasks: TaskBody[], sort: string): string[] {
  const key = sort.replace(/^-/, '');
  const descending = sort.startsWith('-');
  const byId = (a: TaskBody, b: TaskBody): number => compare(a.id, b.id);
  const present = tasks
    .filter((t) => sortValue(t, key) !== null)
    .sort((a, b) => compare(sortValue(a, key)!, sortValue(b, key)!) || byId(a, b));
  const missing = tasks.filter((t) => sortValue(t, key) === null).sort(byId);
  if (descending) {
    present.reverse();
    missing.reverse();
  }
  return [...present, ...missing].map((t) => t.id);
}

// ---------------------------------------------------------------------------------------------

describe('task lists (GET /projects/{id}/tasks, GET /orgs/{id}/tasks)', () => {
  let t: TestApp;
  let owner: SignedInUser;
  let member: SignedInUser;
  let viewer: SignedInUser;
  let outsider: SignedInUser;
  let orgId: string;
  let otherOrgId: string;
  let alpha: string; // project ids
  let beta: string;
  let gamma: string; // in the other org
  /** Every task of the org as the test made it (creation response + the timestamps it set). */
  const known: TaskBody[] = [];
  const otherOrgTasks: TaskBody[] = [];
  const COUNT = 40;

  const projectTasks = (projectId: string) => `/api/v1/projects/${projectId}/tasks`;
  const orgTasks = (id: string) => `/api/v1/orgs/${id}/tasks`;
  const get = (url: string, query: Query = {}, user: SignedInUser = owner) =>
    t.http().get(url).query(query).set(bearer(user.accessToken));
  const inProject = (projectId: string) => known.filter((task) => task.projectId === projectId);

  async function post<T = { id: string }>(url: string, body: object, user: SignedInUser = owner): Promise<T> {
    const res = await t.http().post(url).set(bearer(user.accessToken)).send(body);
    expectStatus(res, 201);
    return res.body.data as T;
  }

  beforeAll(async () => {
    t = await createTestApp();
    [owner, member, viewer, outsider] = await Promise.all([
      registerUser(t, { name: 'Owner' }),
      registerUser(t, { name: 'Member' }),
      registerUser(t, { name: 'Viewer' }),
      registerUser(t, { name: 'Outsider' }),
    ]);
    orgId = (await post('/api/v1/orgs', { name: 'Lists Org' })).id;
    await post(`/api/v1/orgs/${orgId}/members`, { email: member.email, role: 'member' });
    await post(`/api/v1/orgs/${orgId}/members`, { email: viewer.email, role: 'viewer' });
    alpha = (await post(`/api/v1/orgs/${orgId}/projects`, { key: 'ALPHA', name: 'Alpha' })).id;
    beta = (await post(`/api/v1/orgs/${orgId}/projects`, { key: 'BETA', name: 'Beta' })).id;

    const assignees = [owner.id, member.id, null, viewer.id, member.id];
    for (let i = 0; i < COUNT; i++) {
      const labels = [
        ...(i % 3 === 0 ? ['bug'] : []),
        ...(i % 4 === 1 ? ['ui'] : []),
        ...(i % 7 === 2 ? ['backend'] : []),
      ];
      const body = {
        title: `Task ${i} ${TITLE_TOPICS[i % TITLE_TOPICS.length]}`,
        description: DESCRIPTIONS[i % DESCRIPTIONS.length],
        status: STATUSES[i % 4],
        priority: PRIORITIES[Math.floor(i / 4) % 4],
        assigneeId: assignees[(i + Math.floor(i / 5)) % assignees.length],
        dueDate: i % 6 === 0 || i % 7 === 3 ? null : `2026-03-${String(1 + ((i * 7) % 25)).padStart(2, '0')}`,
        labels,
      };
      const projectId = i % 5 < 3 ? alpha : beta;
      const task = await post<TaskBody>(projectTasks(projectId), body, i % 2 ? member : owner);
      // Nine creation instants and six update instants over 40 tasks: many ties on both.
      const createdAt = new Date(Date.UTC(2026, 0, 5, 9, (i * 7) % 9, 0, 125)).toISOString();
      const updatedAt = new Date(Date.UTC(2026, 0, 6, 12, 0, (i * 5) % 6, 500)).toISOString();
      await t.dataSource.query('UPDATE tasks SET created_at = $2, updated_at = $3 WHERE id = $1', [
        task.id,
        createdAt,
        updatedAt,
      ]);
      known.push({ ...task, createdAt, updatedAt });
    }

    // Another org of the same owner, with tasks that match the same filters: never listed above.
    otherOrgId = (await post('/api/v1/orgs', { name: 'Other Org' })).id;
    gamma = (await post(`/api/v1/orgs/${otherOrgId}/projects`, { key: 'GAMMA', name: 'Gamma' })).id;
    for (let i = 0; i < 4; i++) {
      otherOrgTasks.push(
        await post<TaskBody>(projectTasks(gamma), {
          title: `Task ${i} login page`,
          description: 'slow under load on the quokka cluster',
          status: STATUSES[i],
          labels: ['bug', 'ui'],
          assigneeId: owner.id,
          dueDate: '2026-03-10',
        }),
      );
    }
  });
  afterAll(() => t?.close());

  /** Follows nextCursor to the end; checks every page on the way. */
  const walk = (url: string, query: Query, limit: number, user: SignedInUser = owner): Promise<TaskBody[]> =>
    walkPages<TaskBody>(
      (cursor) => get(url, { ...query, limit, ...(cursor ? { cursor } : {}) }, user),
      limit,
      COUNT + 1,
    );

  /** The ids of the whole filtered list, in the default order (-createdAt), on one page. */
  async function listIds(url: string, query: Query, user: SignedInUser = owner): Promise<string[]> {
    const { data, page } = expectList<TaskBody>(await get(url, { ...query, limit: 100 }, user));
    expect(page.nextCursor).toBeNull();
    return data.map((task) => task.id);
  }

  // -------------------------------------------------------------------------------------------
  describe('the data set', () => {
    it('has ties on every sort key and missing due dates, so that the tie-break matters', () => {
      for (const key of ['createdAt', 'updatedAt', 'dueDate', 'priority']) {
        const values = known.map((task) => sortValue(task, key)).filter((v) => v !== null);
        expect({ key, distinct: new Set(values).size < values.length }).toEqual({ key, distinct: true });
      }
      const numbers = known.map((task) => task.number);
      expect(new Set(numbers).size).toBeLessThan(numbers.length); // across the two projects
      expect(known.filter((task) => task.dueDate === null).length).toBeGreaterThanOrEqual(5);
      expect(inProject(alpha)).toHaveLength(24);
      expect(inProject(beta)).toHaveLength(16);
    });

    it('lists every task exactly as created (shape, key, labels, due date, stored timestamps)', async () => {
      const seen = await walk(orgTasks(orgId), { sort: 'number' }, 100);
      expect(seen).toHaveLength(COUNT);
      const byId = new Map(known.map((task) => [task.id, task]));
      for (const task of seen) {
        expect(Object.keys(task).sort()).toEqual(TASK_KEYS);
        expect(task).toEqual(byId.get(task.id));
        expect(task.key).toBe(`${task.projectId === alpha ? 'ALPHA' : 'BETA'}-${task.number}`);
      }
    });

    it('numbers each project from 1 without gaps', () => {
      for (const projectId of [alpha, beta]) {
        const numbers = inProject(projectId)
          .map((task) => task.number)
          .sort((a, b) => a - b);
        expect(numbers).toEqual(numbers.map((_, index) => index + 1));
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('filters', () => {
    /** Filter sets, each checked on the org list and on both project lists. */
    const CASES: [string, () => Query][] = [
      ['status (one)', () => ({ status: 'todo' })],
      ['status (comma list)', () => ({ status: 'todo,done' })],
      ['status (repeated)', () => ({ status: ['in_progress', 'canceled'] })],
      ['status (all four)', () => ({ status: 'todo,in_progress,done,canceled' })],
      ['priority (one)', () => ({ priority: 'urgent' })],
      ['priority (comma list)', () => ({ priority: 'low,high' })],
      ['priority (repeated)', () => ({ priority: ['medium', 'urgent'] })],
      ['assigneeId (a UUID)', () => ({ assigneeId: member.id })],
      ['assigneeId (an upper-case UUID)', () => ({ assigneeId: viewer.id.toUpperCase() })],
      ['assigneeId=me', () => ({ assigneeId: 'me' })],
      ['assigneeId=none', () => ({ assigneeId: 'none' })],
      ['assigneeId of a user with no tasks', () => ({ assigneeId: outsider.id })],
      ['label', () => ({ label: 'bug' })],
      ['label (another)', () => ({ label: 'backend' })],
      ['label nobody carries', () => ({ label: 'nope' })],
      ['label is case-sensitive', () => ({ label: 'BUG' })],
      ['q (a title word)', () => ({ q: 'migration' })],
      ['q (a description word)', () => ({ q: 'quokka' })],
      ['dueBefore (inclusive)', () => ({ dueBefore: '2026-03-08' })],
      ['dueAfter (inclusive)', () => ({ dueAfter: '2026-03-22' })],
      ['dueAfter and dueBefore (a window)', () => ({ dueAfter: '2026-03-08', dueBefore: '2026-03-15' })],
      ['dueAfter = dueBefore (one day)', () => ({ dueAfter: '2026-03-08', dueBefore: '2026-03-08' })],
      ['dueAfter > dueBefore (empty)', () => ({ dueAfter: '2026-03-15', dueBefore: '2026-03-08' })],
      ['status + priority', () => ({ status: 'todo,in_progress', priority: ['high', 'urgent'] })],
      ['status + assigneeId', () => ({ status: 'done', assigneeId: member.id })],
      ['assigneeId=me + label', () => ({ assigneeId: 'me', label: 'bug' })],
      ['assigneeId=none + priority + label', () => ({ assigneeId: 'none', priority: 'low,medium', label: 'ui' })],
      ['label + dueBefore', () => ({ label: 'bug', dueBefore: '2026-03-15' })],
      ['status + dueAfter', () => ({ status: 'todo,canceled', dueAfter: '2026-03-10' })],
      ['q + status', () => ({ q: 'slow', status: 'in_progress' })],
      ['q + priority + assigneeId', () => ({ q: 'login', priority: 'low,urgent', assigneeId: owner.id })],
      [
        'every filter at once',
        () => ({
          status: 'todo,in_progress,done',
          priority: ['medium', 'high', 'urgent'],
          assigneeId: member.id,
          label: 'ui',
          q: 'task',
          dueAfter: '2026-03-02',
          dueBefore: '2026-03-24',
        }),
      ],
    ];

    it('includes boundary dates, so inclusiveness is tested', () => {
      expect(known.some((task) => task.dueDate === '2026-03-08')).toBe(true);
      expect(known.some((task) => task.dueDate === '2026-03-15')).toBe(true);
      expect(known.some((task) => task.dueDate === '2026-03-22')).toBe(true);
    });

    it('selects neither nothing nor everything for most filter sets', () => {
      const sizes = CASES.map(([, query]) => known.filter((task) => passes(task, query(), owner.id)).length);
      expect(sizes.filter((size) => size > 0 && size < COUNT).length).toBeGreaterThanOrEqual(CASES.length - 6);
    });

    for (const [name, query] of CASES) {
      it(`${name}: exactly the matching tasks, on the org list and on each project list`, async () => {
        const expected = (tasks: TaskBody[]) =>
          expectedOrder(
            tasks.filter((task) => passes(task, query(), owner.id)),
            '-createdAt',
          );
        expect(await listIds(orgTasks(orgId), query())).toEqual(expected(known));
        expect(await listIds(projectTasks(alpha), query())).toEqual(expected(inProject(alpha)));
        expect(await listIds(projectTasks(beta), query())).toEqual(expected(inProject(beta)));
      });
    }

    it('assigneeId=me is the caller: a viewer sees the tasks assigned to them', async () => {
      const mine = expectedOrder(
        known.filter((task) => task.assigneeId === viewer.id),
        '-createdAt',
      );
      expect(mine.length).toBeGreaterThan(0);
      expect(await listIds(orgTasks(orgId), { assigneeId: 'me' }, viewer)).toEqual(mine);
      expect(await listIds(orgTasks(orgId), { assigneeId: viewer.id }, owner)).toEqual(mine);
    });

    it('a filter value is trimmed where it is text (label)', async () => {
      const expected = expectedOrder(
        known.filter((task) => task.labels.includes('ui')),
        '-createdAt',
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(await listIds(orgTasks(orgId), { label: '  ui ' })).toEqual(expected);
    });

    it('never lists the tasks of another org, even when they match', async () => {
      const ids = await listIds(orgTasks(orgId), { q: 'quokka', label: 'bug' });
      for (const task of otherOrgTasks) expect(ids).not.toContain(task.id);
      expect(await listIds(orgTasks(otherOrgId), { q: 'quokka', label: 'bug' })).toEqual(
        expectedOrder(otherOrgTasks, '-createdAt'),
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('full-text search (q)', () => {
    const expectSearch = async (q: string, extra: Query = {}): Promise<string[]> => {
      const query = { q, ...extra };
      const expected = expectedOrder(
        known.filter((task) => passes(task, query, owner.id)),
        '-createdAt',
      );
      expect({ q, ids: await listIds(orgTasks(orgId), query) }).toEqual({ q, ids: expected });
      return expected;
    };

    it('matches a word that is only in the description, case-insensitively', async () => {
      const hits = await expectSearch('quokka');
      expect(hits.length).toBeGreaterThan(0);
      expect(hits.every((id) => !known.find((task) => task.id === id)!.title.includes('quokka'))).toBe(true);
      expect(await listIds(orgTasks(orgId), { q: 'QuOkKa' })).toEqual(hits);
    });

    it('matches a word of the title', async () => {
      expect((await expectSearch('billing')).length).toBeGreaterThan(0);
    });

    it('needs every word (AND), in any order, across title and description', async () => {
      const both = await expectSearch('billing quarter');
      const billing = await expectSearch('billing');
      const quarter = await expectSearch('quarter');
      expect(both.length).toBeGreaterThan(0);
      expect(both.length).toBeLessThan(billing.length);
      expect(both.length).toBeLessThan(quarter.length);
      expect(await listIds(orgTasks(orgId), { q: 'quarter billing' })).toEqual(both);
    });

    it('a quoted phrase needs the words adjacent and in order', async () => {
      const phrase = await expectSearch('"under load"');
      const words = await expectSearch('under load');
      const reversed = await expectSearch('"load under"');
      expect(phrase.length).toBeGreaterThan(0);
      expect(words.length).toBeGreaterThan(phrase.length); // "load is fine but under the hood"
      expect(reversed).toEqual([]);
    });

    it('supports websearch "or" and "-word"', async () => {
      const either = await expectSearch('quokka or timeout');
      expect(either.length).toBeGreaterThan((await expectSearch('quokka')).length);
      const without = await expectSearch('slow -quokka');
      expect(without.length).toBeGreaterThan(0);
      expect(without.length).toBeLessThan((await expectSearch('slow')).length);
    });

    it('a word in neither title nor description gives an empty last page', async () => {
      const { data, page } = expectList<TaskBody>(await get(orgTasks(orgId), { q: 'xylophone' }));
      expect(data).toEqual([]);
      expect(page.nextCursor).toBeNull();
      expect(await listIds(projectTasks(alpha), { q: 'xylophone' })).toEqual([]);
    });

    it('combines with status (AND)', async () => {
      const all = await expectSearch('slow');
      const done = await expectSearch('slow', { status: 'done' });
      expect(done.length).toBeGreaterThan(0);
      expect(done.length).toBeLessThan(all.length);
      expect(await expectSearch('slow', { status: 'done,canceled' })).toEqual(
        expectedOrder(
          known.filter((task) => fullTextMatches(task, 'slow') && ['done', 'canceled'].includes(task.status)),
          '-createdAt',
        ),
      );
    });

    it('search syntax characters are not an error', async () => {
      for (const q of ['"unterminated', 'a & b | !c', "it's (odd)", ':*', '<->']) {
        expectList<TaskBody>(await get(orgTasks(orgId), { q }));
      }
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('sorting and paging', () => {
    it('sorts by -createdAt by default, 20 to a page', async () => {
      const expected = expectedOrder(known, '-createdAt');
      const first = expectList<TaskBody>(await get(orgTasks(orgId)));
      expect(first.page.limit).toBe(20);
      expect(first.data.map((task) => task.id)).toEqual(expected.slice(0, 20));
      expect(first.page.nextCursor).toEqual(expect.any(String));
      const second = expectList<TaskBody>(await get(orgTasks(orgId), { cursor: first.page.nextCursor! }));
      expect(second.data.map((task) => task.id)).toEqual(expected.slice(20));
      expect(second.page.nextCursor).toBeNull();
    });

    it('has nextCursor null on a last page that is exactly full', async () => {
      const whole = expectList<TaskBody>(await get(projectTasks(alpha), { limit: 24 }));
      expect(whole.data).toHaveLength(24);
      expect(whole.page.nextCursor).toBeNull();
      const first = expectList<TaskBody>(await get(projectTasks(alpha), { limit: 12, sort: 'dueDate' }));
      expect(first.page.nextCursor).toEqual(expect.any(String));
      const last = expectList<TaskBody>(
        await get(projectTasks(alpha), { limit: 12, sort: 'dueDate', cursor: first.page.nextCursor! }),
      );
      expect(last.data).toHaveLength(12);
      expect(last.page.nextCursor).toBeNull();
    });

    it('keeps a cursor valid with another page size (limit is not part of the list)', async () => {
      const first = expectList<TaskBody>(await get(orgTasks(orgId), { sort: '-priority', limit: 3 }));
      const next = expectList<TaskBody>(
        await get(orgTasks(orgId), { sort: '-priority', limit: 5, cursor: first.page.nextCursor! }),
      );
      expect(next.data.map((task) => task.id)).toEqual(expectedOrder(known, '-priority').slice(3, 8));
    });

    const LISTS: [string, () => string, () => TaskBody[], () => Query][] = [
      ['project ALPHA', () => projectTasks(alpha), () => inProject(alpha), () => ({})],
      ['project BETA', () => projectTasks(beta), () => inProject(beta), () => ({})],
      ['org', () => orgTasks(orgId), () => known, () => ({})],
      [
        'org, filtered by status=todo,in_progress',
        () => orgTasks(orgId),
        () => known.filter((task) => task.status === 'todo' || task.status === 'in_progress'),
        () => ({ status: 'todo,in_progress' }),
      ],
      [
        'project ALPHA, filtered by label=bug',
        () => projectTasks(alpha),
        () => inProject(alpha).filter((task) => task.labels.includes('bug')),
        () => ({ label: 'bug' }),
      ],
    ];

    for (const [name, url, tasks, filter] of LISTS) {
      describe(name, () => {
        for (const sort of SORTS) {
          it(`sort=${sort}: limits ${LIMITS.join(', ')} walk every task exactly once, in order`, async () => {
            const expected = expectedOrder(tasks(), sort);
            expect(expected.length).toBeGreaterThan(3);
            for (const limit of LIMITS) {
              const ids = (await walk(url(), { ...filter(), sort }, limit)).map((task) => task.id);
              expect(new Set(ids).size).toBe(ids.length);
              expect({ limit, ids }).toEqual({ limit, ids: expected });
            }
          });
        }
      });
    }

    it('puts tasks without a due date last under dueDate and -dueDate', async () => {
      for (const sort of ['dueDate', '-dueDate']) {
        const seen = await walk(orgTasks(orgId), { sort }, 7);
        const firstNull = seen.findIndex((task) => task.dueDate === null);
        expect(firstNull).toBeGreaterThan(0);
        expect(seen.slice(firstNull).every((task) => task.dueDate === null)).toBe(true);
        expect(seen.slice(0, firstNull).every((task) => task.dueDate !== null)).toBe(true);
      }
    });

    it('sorts priority by rank, not alphabetically', async () => {
      const seen = await walk(orgTasks(orgId), { sort: 'priority' }, 100);
      const ranks = seen.map((task) => RANK[task.priority]);
      expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
      expect(seen[0].priority).toBe('low');
      expect(seen[seen.length - 1].priority).toBe('urgent');
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('cursor integrity', () => {
    let cursor: string; // ALPHA, sort=number, status=todo,done, limit 3
    const base = (): Query => ({ sort: 'number', status: 'todo,done', limit: 3 });
    const expectedAlpha = (): string[] =>
      expectedOrder(
        inProject(alpha).filter((task) => ['todo', 'done'].includes(task.status)),
        'number',
      );

    beforeAll(async () => {
      const { data, page } = expectList<TaskBody>(await get(projectTasks(alpha), base()));
      expect(data.map((task) => task.id)).toEqual(expectedAlpha().slice(0, 3));
      cursor = page.nextCursor!;
      expect(cursor).toEqual(expect.any(String));
    });

    const next = (query: Query, url = projectTasks(alpha)) => get(url, { ...base(), ...query });

    it('the untouched cursor gives the next page, from the same or another member', async () => {
      expect(expectList<TaskBody>(await next({ cursor })).data.map((task) => task.id)).toEqual(
        expectedAlpha().slice(3, 6),
      );
      expect(
        expectList<TaskBody>(await get(projectTasks(alpha), { ...base(), cursor }, viewer)).data.map((x) => x.id),
      ).toEqual(expectedAlpha().slice(3, 6));
    });

    it('is opaque: no id or sort value in clear', () => {
      for (const task of known) expect(cursor).not.toContain(task.id);
      expect(cursor).not.toMatch(/number|todo/);
    });

    it('rejects a change to the payload', async () => {
      const [payload, signature] = cursor.split('.');
      for (const index of [0, Math.floor(payload.length / 2), payload.length - 2]) {
        expectInvalidCursor(await next({ cursor: `${flipCharacter(payload, index)}.${signature}` }));
      }
    });

    it('rejects a change to the signature, a missing signature and an extra part', async () => {
      const [payload, signature] = cursor.split('.');
      for (const index of [0, Math.floor(signature.length / 2), signature.length - 1]) {
        expectInvalidCursor(await next({ cursor: `${payload}.${flipCharacter(signature, index)}` }));
      }
      expectInvalidCursor(await next({ cursor: payload }));
      expectInvalidCursor(await next({ cursor: `${payload}.` }));
      expectInvalidCursor(await next({ cursor: `${cursor}.${signature}` }));
    });

    it('rejects a payload re-encoded with another position under the old signature', async () => {
      const [payload, signature] = cursor.split('.');
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
      for (const position of [[1, randomUUID()], ['x', 'y'], [null, null], 'nope']) {
        const forged = Buffer.from(JSON.stringify({ ...decoded, p: position })).toString('base64url');
        expectInvalidCursor(await next({ cursor: `${forged}.${signature}` }));
      }
    });

    it('rejects the payload of one cursor with the signature of another', async () => {
      const other = expectList<TaskBody>(await next({ sort: '-number' })).page.nextCursor!;
      expectInvalidCursor(await next({ cursor: `${cursor.split('.')[0]}.${other.split('.')[1]}` }));
    });

    it.each([
      ['garbage', 'garbage'],
      ['a.b', 'a.b'],
      ['a.b.c', 'a.b.c'],
      ['a lone dot', '.'],
      ['an empty object, unsigned', 'eyJ9.'],
      ['%00', '%00'],
      ['3000 characters', 'x'.repeat(3000)],
      ['an empty string', ''],
    ])('rejects the garbage cursor: %s', async (_name, garbage) => {
      expectInvalidCursor(await next({ cursor: garbage }));
    });

    it('rejects the cursor under another sort', async () => {
      for (const sort of SORTS.filter((s) => s !== 'number')) expectInvalidCursor(await next({ sort, cursor }));
    });

    it('rejects the cursor with another filter set (changed, added or removed)', async () => {
      expectInvalidCursor(await next({ status: 'todo', cursor }));
      expectInvalidCursor(await next({ status: 'todo,done,canceled', cursor }));
      expectInvalidCursor(await next({ priority: 'high', cursor }));
      expectInvalidCursor(await next({ assigneeId: 'none', cursor }));
      expectInvalidCursor(await next({ label: 'bug', cursor }));
      expectInvalidCursor(await next({ q: 'task', cursor }));
      expectInvalidCursor(await next({ dueBefore: '2026-12-31', cursor }));
      expectInvalidCursor(await next({ dueAfter: '2026-01-01', cursor }));
      expectInvalidCursor(await get(projectTasks(alpha), { sort: 'number', limit: 3, cursor }));
    });

    it('rejects the cursor on another project, on the org list and on another org', async () => {
      expectInvalidCursor(await next({ cursor }, projectTasks(beta)));
      expectInvalidCursor(await next({ cursor }, orgTasks(orgId)));
      expectInvalidCursor(await next({ cursor }, orgTasks(otherOrgId)));
      expectInvalidCursor(await next({ cursor }, projectTasks(gamma)));
    });

    it('rejects an org-list cursor on a project list and on another org', async () => {
      const orgCursor = expectList<TaskBody>(await get(orgTasks(orgId), base())).page.nextCursor!;
      expect(orgCursor).toEqual(expect.any(String));
      expect(expectList<TaskBody>(await get(orgTasks(orgId), { ...base(), cursor: orgCursor })).data.length).toBe(3);
      expectInvalidCursor(await get(projectTasks(alpha), { ...base(), cursor: orgCursor }));
      expectInvalidCursor(await get(projectTasks(beta), { ...base(), cursor: orgCursor }));
      expectInvalidCursor(await get(orgTasks(otherOrgId), { ...base(), cursor: orgCursor }));
    });

    it('rejects an assigneeId=me cursor used by someone else', async () => {
      const mine = expectList<TaskBody>(await get(orgTasks(orgId), { assigneeId: 'me', limit: 1 }, member)).page
        .nextCursor!;
      expect(mine).toEqual(expect.any(String));
      expectInvalidCursor(await get(orgTasks(orgId), { assigneeId: 'me', limit: 1, cursor: mine }, owner));
    });

    it('a repeated cursor parameter is a validation error', async () => {
      expectValidationFailed(
        await t
          .http()
          .get(`${projectTasks(alpha)}?cursor=${cursor}&cursor=${cursor}`)
          .set(bearer(owner.accessToken)),
        ['cursor'],
      );
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('validation', () => {
    const CASES: [string, Query | string, string[]][] = [
      ['an unknown status', { status: 'blocked' }, ['status']],
      ['a list with one unknown status', { status: 'todo,blocked' }, ['status']],
      ['a repeated status with one unknown value', { status: ['todo', 'Done'] }, ['status']],
      ['an empty status', { status: '' }, ['status']],
      ['an unknown priority', { priority: 'critical' }, ['priority']],
      ['a priority list with an empty item', { priority: 'low,' }, ['priority']],
      ['an assigneeId that is neither UUID, me nor none', { assigneeId: 'nobody' }, ['assigneeId']],
      ['an assigneeId that is almost a UUID', { assigneeId: `${randomUUID()}0` }, ['assigneeId']],
      ['a repeated assigneeId', 'assigneeId=me&assigneeId=none', ['assigneeId']],
      ['dueBefore that is not a calendar date', { dueBefore: '2026-02-30' }, ['dueBefore']],
      ['dueAfter without zero padding', { dueAfter: '2026-1-1' }, ['dueAfter']],
      ['dueBefore as a timestamp', { dueBefore: '2026-03-01T00:00:00Z' }, ['dueBefore']],
      ['dueAfter as a word', { dueAfter: 'tomorrow' }, ['dueAfter']],
      ['an unknown sort', { sort: 'title' }, ['sort']],
      ['a sort with the wrong case', { sort: 'duedate' }, ['sort']],
      ['a sort with a + prefix', { sort: '+number' }, ['sort']],
      ['two sorts', { sort: 'number,-createdAt' }, ['sort']],
      ['an unknown query parameter', { page: '2' }, ['page']],
      ['an unknown query parameter next to valid ones', { status: 'todo', assignee: 'me' }, ['assignee']],
      ['limit=0', { limit: '0' }, ['limit']],
      ['limit=101', { limit: '101' }, ['limit']],
      ['limit=abc', { limit: 'abc' }, ['limit']],
      ['limit=1.5', { limit: '1.5' }, ['limit']],
      ['limit=-1', { limit: '-1' }, ['limit']],
      ['a label over 50 characters', { label: 'x'.repeat(51) }, ['label']],
      ['a q over 200 characters', { q: 'x'.repeat(201) }, ['q']],
      ['several bad parameters at once', { status: 'nope', limit: '0', sort: 'x' }, ['limit', 'sort', 'status']],
    ];

    for (const [name, query, fields] of CASES) {
      it(`rejects ${name} with 400 VALIDATION_FAILED naming ${fields.join(', ')}`, async () => {
        for (const url of [projectTasks(alpha), orgTasks(orgId)]) {
          const request = t.http().get(typeof query === 'string' ? `${url}?${query}` : url);
          if (typeof query !== 'string') request.query(query);
          expectValidationFailed(await request.set(bearer(owner.accessToken)), fields);
        }
      });
    }

    it('accepts the limits 1 and 100, the dates 2028-02-29 and every documented sort', async () => {
      expect(expectList<TaskBody>(await get(orgTasks(orgId), { limit: 1 })).data).toHaveLength(1);
      expect(expectList<TaskBody>(await get(orgTasks(orgId), { limit: 100 })).data).toHaveLength(COUNT);
      expectList<TaskBody>(await get(orgTasks(orgId), { dueBefore: '2028-02-29', dueAfter: '2024-02-29' }));
      for (const sort of SORTS) expectList<TaskBody>(await get(projectTasks(alpha), { sort }));
    });

    it('rejects a project id that is not a UUID', async () => {
      expectValidationFailed(await get('/api/v1/projects/not-a-uuid/tasks'), ['projectId']);
      expectValidationFailed(await get('/api/v1/orgs/not-a-uuid/tasks'), ['orgId']);
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('tenancy', () => {
    it('is 401 without a token', async () => {
      expectError(await t.http().get(projectTasks(alpha)), 401, 'UNAUTHENTICATED');
      expectError(await t.http().get(orgTasks(orgId)), 401, 'UNAUTHENTICATED');
    });

    it('is 404 for a non-member, on both lists, filtered or not', async () => {
      expectError(await get(projectTasks(alpha), {}, outsider), 404, 'NOT_FOUND');
      expectError(await get(projectTasks(beta), { status: 'todo' }, outsider), 404, 'NOT_FOUND');
      expectError(await get(orgTasks(orgId), {}, outsider), 404, 'NOT_FOUND');
      expectError(await get(orgTasks(orgId), { sort: 'number' }, outsider), 404, 'NOT_FOUND');
    });

    it('is 404 for a member of another org only, and for projects and orgs that do not exist', async () => {
      expectError(await get(projectTasks(gamma), {}, member), 404, 'NOT_FOUND');
      expectError(await get(orgTasks(otherOrgId), {}, member), 404, 'NOT_FOUND');
      expectError(await get(projectTasks(randomUUID())), 404, 'NOT_FOUND');
      expectError(await get(orgTasks(randomUUID())), 404, 'NOT_FOUND');
    });

    it('does not let a non-member use a valid cursor either', async () => {
      const { page } = expectList<TaskBody>(await get(projectTasks(alpha), { limit: 2 }));
      expectError(await get(projectTasks(alpha), { limit: 2, cursor: page.nextCursor! }, outsider), 404, 'NOT_FOUND');
    });

    it('lets a viewer and a member list both, with the same result as the owner', async () => {
      for (const user of [viewer, member]) {
        expect(await listIds(projectTasks(alpha), { sort: 'number' }, user)).toEqual(
          expectedOrder(inProject(alpha), 'number'),
        );
        expect(await listIds(orgTasks(orgId), {}, user)).toEqual(expectedOrder(known, '-createdAt'));
      }
    });
  });
});
