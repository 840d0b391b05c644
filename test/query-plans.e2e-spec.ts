import { Client } from 'pg';
import { ListRequest, listRequests, summarizePlan } from '../bench/list-queries';
import { ScaleData, seedScale } from '../bench/seed-scale';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, login } from './support/users';

/**
 * Issue 16 ("Data scale"): every documented list request reads its rows through an index, so that
 * a change to a list's SQL or to the schema cannot silently lose one. Through the real HTTP
 * pipeline, on an org of 100,000 tasks (bench/seed-scale.ts, as the benchmark seeds it), each
 * request of bench/list-queries.ts — first pages, and the second page for the lists the benchmark
 * pages deep — is sent; the list statement the app really sent (pg's Client#query, spied as
 * test/query-count.e2e-spec.ts does) is EXPLAINed with its own parameters, and the plan must read
 * the expected index and no big table sequentially, and read it in the list's order (no Sort) unless
 * the request is marked as one whose few matching rows may be sorted. Behind PgBouncer (TEST_PGBOUNCER_PORT) lists
 * are the same unnamed statements; the membership check before them goes through plan-cached
 * functions, which this test does not read.
 */
const BIG_TABLES = ['tasks', 'audit_events', 'comments', 'memberships', 'users'];

interface Sent {
  text: string;
  values: unknown[];
}

describe('list query plans on 100,000 tasks', () => {
  let t: TestApp;
  let data: ScaleData;
  let token: string;
  let explainer: Client;

  beforeAll(async () => {
    t = await createTestApp();
    data = await seedScale(t.databaseUrl, { tasks: 100_000, members: 2_000 });
    token = (await login(t, data.email, data.password)).accessToken;
    explainer = new Client({ connectionString: t.databaseUrl });
    await explainer.connect();
  }, 120_000);
  afterAll(async () => {
    await explainer?.end();
    await t?.close();
  });

  /** The list statement (ORDER BY … LIMIT on `table`) a request sent, with its parameters. */
  async function sentBy(
    path: string,
    table: string,
  ): Promise<{ sent: Sent; body: { meta: { page: { nextCursor: string | null } } } }> {
    const spy = jest.spyOn(Client.prototype, 'query');
    try {
      const res = await t.http().get(path).set(bearer(token)).expect(200);
      const lists = spy.mock.calls
        .map(([statement]) => statement as unknown)
        .filter((s): s is Sent => typeof s === 'object' && s !== null && typeof (s as Sent).text === 'string')
        .filter((s) => new RegExp(`FROM ${table} [a-z]\\b`).test(s.text) && /ORDER BY [\s\S]+ LIMIT \d+$/.test(s.text));
      expect(lists).toHaveLength(1);
      return { sent: lists[0], body: res.body };
    } finally {
      spy.mockRestore();
    }
  }

  /** What is wrong with the plan of the statement a request sent: nothing, or why. */
  async function problemOf(request: ListRequest, sent: Sent): Promise<string | undefined> {
    const [row] = (await explainer.query(`EXPLAIN (FORMAT JSON) ${sent.text}`, sent.values)).rows;
    const plan = summarizePlan(row['QUERY PLAN']);
    if (plan.scans.some((s) => s.node === 'Seq Scan' && BIG_TABLES.includes(s.relation ?? ''))) {
      return `${request.name}: a Seq Scan (${plan.text})`;
    }
    const used = plan.scans.map((s) => s.index);
    if (request.indexes.length > 0 && !request.indexes.some((i) => used.includes(i))) {
      return `${request.name}: none of ${request.indexes.join(', ')} (${plan.text})`;
    }
    if (plan.sorted && !request.sorts) return `${request.name}: sorts the rows it read (${plan.text})`;
    return undefined;
  }

  it('the first page of every list reads an index', async () => {
    const problems: string[] = [];
    for (const request of listRequests(data)) {
      const { sent } = await sentBy(request.path, request.table);
      const problem = await problemOf(request, sent);
      if (problem) problems.push(problem);
    }
    expect(problems).toEqual([]);
  });

  it('so does the next page (the cursor condition) of the lists paged deep', async () => {
    const deep = listRequests(data).filter((r) => r.deep);
    expect(deep.length).toBeGreaterThan(10);
    const problems: string[] = [];
    for (const request of deep) {
      const { body } = await sentBy(request.path, request.table);
      const cursor = body.meta.page.nextCursor;
      expect(cursor).toEqual(expect.any(String));
      const { sent } = await sentBy(
        `${request.path}${request.path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor!)}`,
        request.table,
      );
      expect(sent.values.length).toBeGreaterThan(1); // the cursor's position is bound
      const problem = await problemOf(request, sent);
      if (problem) problems.push(`${problem}, next page`);
    }
    expect(problems).toEqual([]);
  });

  it('the check fails a plan without the expected index, and a sequential read (the test can fail)', async () => {
    const request = listRequests(data).find((r) => r.name === 'project: sort -dueDate')!;
    const { sent } = await sentBy(request.path, request.table);
    expect(await problemOf(request, sent)).toBeUndefined();
    await explainer.query('BEGIN');
    try {
      await explainer.query('DROP INDEX tasks_project_due_desc_idx');
      expect(await problemOf(request, sent)).toMatch(/^project: sort -dueDate: none of tasks_project_due_desc_idx \(/);
      // No index at all for the planner to take: the tasks are read sequentially.
      await explainer.query('SET LOCAL enable_indexscan = off');
      await explainer.query('SET LOCAL enable_bitmapscan = off');
      expect(await problemOf(request, sent)).toMatch(/^project: sort -dueDate: a Seq Scan \(.*Seq Scan tasks/);
    } finally {
      await explainer.query('ROLLBACK');
    }
  });

  it('the check fails a plan that sorts what an index should give in order', async () => {
    const request = listRequests(data).find((r) => r.name === 'audit: action=task.updated')!;
    const { sent } = await sentBy(request.path, request.table);
    expect(await problemOf(request, sent)).toBeUndefined();
    await explainer.query('BEGIN');
    try {
      // The index as it was before migration 1765100000000: in time order, without the tie-breaker
      await explainer.query('DROP INDEX audit_events_action_idx');
      await explainer.query('CREATE INDEX audit_events_action_idx ON audit_events (org_id, action, created_at)');
      expect(await problemOf(request, sent)).toMatch(/^audit: action=task.updated: sorts the rows it read \(/);
    } finally {
      await explainer.query('ROLLBACK');
    }
  });
});
