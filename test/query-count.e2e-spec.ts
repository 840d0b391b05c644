import { Client } from 'pg';
import { PROJECT_FOR_PRINCIPAL } from '../src/projects/projects.repository';
import { ROLE_ON_TASK, TASK_FOR_PRINCIPAL } from '../src/tasks/tasks.repository';
import { ROLE_IN_ORG } from '../src/access/access.repository';
import { createTestApp, TestApp } from './support/test-app';
import { bearer, registerUser } from './support/users';

/**
 * Issue #5's budget for the hottest read: an authenticated GET /api/v1/tasks/{id} costs exactly
 * one SQL statement (authentication and revocation are in memory; tenancy is in the same
 * statement as the row). Every query of the process goes through pg's Client#query, so a spy on
 * it counts them all.
 */
// Behind the run's PgBouncer (TEST_DATABASE_POOLER=transaction) no statement is named, and each
// transaction first sets its own timeouts (docs/scaling-out.md): checked, then left out of the counts.
const POOLED = Boolean(process.env.TEST_PGBOUNCER_PORT);
const TIMEOUTS = /^SELECT set_config\('statement_timeout'/;
// The task lookup joins the membership: in the statement itself, or behind the pooler in the
// plan-cached function that runs the same query (compared below).
const TASK_LOOKUP = POOLED
  ? /^\{"text":"SELECT \* FROM task_for_principal\(\$1, \$2\)"/
  : /FROM tasks t\s+JOIN org_principals m ON m\.org_id = t\.org_id AND m\.principal_id = \$2/;

describe('SQL statements per request', () => {
  let t: TestApp;
  let token: string;
  let taskId: string;
  let projectId: string;
  let orgId: string;

  beforeAll(async () => {
    t = await createTestApp();
    const owner = await registerUser(t);
    token = owner.accessToken;
    const org = await t.http().post('/api/v1/orgs').set(bearer(token)).send({ name: 'Counted' }).expect(201);
    const project = await t
      .http()
      .post(`/api/v1/orgs/${org.body.data.id}/projects`)
      .set(bearer(token))
      .send({ key: 'CNT', name: 'Counted' })
      .expect(201);
    projectId = project.body.data.id;
    orgId = org.body.data.id;
    const task = await t.http().post(`/api/v1/projects/${projectId}/tasks`).set(bearer(token)).send({ title: 'One' });
    taskId = task.body.data.id;
  });
  afterAll(() => t.close());

  async function statementsFor(request: () => Promise<unknown>): Promise<string[]> {
    const spy = jest.spyOn(Client.prototype, 'query');
    try {
      await request();
      const all = spy.mock.calls.map(([sql]) => (typeof sql === 'string' ? sql : JSON.stringify(sql)));
      if (!POOLED) return all;
      all.forEach((statement, i) => {
        expect(statement).not.toMatch(/^\{"name":/);
        if (statement === 'START TRANSACTION') expect(all[i + 1]).toMatch(TIMEOUTS);
      });
      return all.filter((statement) => !TIMEOUTS.test(statement));
    } finally {
      spy.mockRestore();
    }
  }

  it('GET /api/v1/tasks/{id} runs exactly one statement, which joins the membership', async () => {
    const statements = await statementsFor(() =>
      t.http().get(`/api/v1/tasks/${taskId}`).set(bearer(token)).expect(200),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(TASK_LOOKUP);
  });

  it('the plan-cached lookups (for behind a pooler) return exactly what the plain statements return', async () => {
    const stranger = await registerUser(t);
    const owner = (await t.http().get('/api/v1/auth/me').set(bearer(token)).expect(200)).body.data.id as string;
    const client = new Client({ connectionString: t.databaseUrl });
    await client.connect();
    try {
      const pairs: [string, string, unknown[]][] = [
        [TASK_FOR_PRINCIPAL, 'SELECT * FROM task_for_principal($1, $2)', [taskId, owner]],
        [TASK_FOR_PRINCIPAL, 'SELECT * FROM task_for_principal($1, $2)', [taskId, stranger.id]],
        [PROJECT_FOR_PRINCIPAL, 'SELECT * FROM project_for_principal($1, $2)', [projectId, owner]],
        [PROJECT_FOR_PRINCIPAL, 'SELECT * FROM project_for_principal($1, $2)', [projectId, stranger.id]],
        [ROLE_ON_TASK, 'SELECT * FROM role_on_task($1, $2)', [taskId, owner]],
        [ROLE_ON_TASK, 'SELECT * FROM role_on_task($1, $2)', [taskId, stranger.id]],
        [ROLE_IN_ORG, 'SELECT * FROM role_in_org($1, $2)', [orgId, owner]],
        [ROLE_IN_ORG, 'SELECT * FROM role_in_org($1, $2)', [orgId, stranger.id]],
      ];
      for (const [plain, cached, values] of pairs) {
        const expected = (await client.query(plain, values)).rows;
        expect((await client.query(cached, values)).rows).toEqual(expected);
      }
      // (the owner's rows are there to compare: the comparison is not of empty results only)
      expect((await client.query(TASK_FOR_PRINCIPAL, [taskId, owner])).rows).toHaveLength(1);
      expect((await client.query(ROLE_IN_ORG, [orgId, owner])).rows).toEqual([{ role: 'owner' }]);
    } finally {
      await client.end();
    }
  });

  it('with an API key, the same single statement once the key has been checked (§18: no round trip per request)', async () => {
    const key = await t
      .http()
      .post(`/api/v1/orgs/${orgId}/api-keys`)
      .set(bearer(token))
      .send({ name: 'Counted', role: 'viewer' })
      .expect(201);
    const apiKey = key.body.data.token as string;
    const first = await statementsFor(() => t.http().get(`/api/v1/tasks/${taskId}`).set(bearer(apiKey)).expect(200));
    expect(first).toHaveLength(2); // the key, read once by its prefix; then the task
    expect(first[0]).toContain('FROM api_keys WHERE prefix = $1');
    for (let i = 0; i < 3; i++) {
      const statements = await statementsFor(() =>
        t.http().get(`/api/v1/tasks/${taskId}`).set(bearer(apiKey)).expect(200),
      );
      expect(statements).toHaveLength(1);
      expect(statements[0]).toMatch(TASK_LOOKUP);
    }
  });

  it('a non-member gets its 404 from that same single statement', async () => {
    const stranger = await registerUser(t);
    const statements = await statementsFor(() =>
      t.http().get(`/api/v1/tasks/${taskId}`).set(bearer(stranger.accessToken)).expect(404),
    );
    expect(statements).toHaveLength(1);
  });

  it('GET /api/v1/projects/{id}/tasks runs two: the membership check and the page', async () => {
    const statements = await statementsFor(() =>
      t.http().get(`/api/v1/projects/${projectId}/tasks`).set(bearer(token)).expect(200),
    );
    expect(statements).toHaveLength(2);
  });

  it('POST /api/v1/projects/{id}/tasks runs six: the access check, then one transaction of four', async () => {
    const statements = await statementsFor(() =>
      t.http().post(`/api/v1/projects/${projectId}/tasks`).set(bearer(token)).send({ title: 'Counted' }).expect(201),
    );
    expect(statements).toHaveLength(6);
    expect(statements[0]).toContain(POOLED ? 'project_for_principal($1, $2)' : 'project_for_member');
    expect(statements[1]).toBe('START TRANSACTION');
    expect(statements[2]).toMatch(/^UPDATE projects p SET task_seq/);
    expect(statements[3]).toMatch(/^INSERT INTO tasks/);
    expect(statements[4]).toMatch(/^INSERT INTO audit_events/);
    expect(statements[5]).toBe('COMMIT');
  });
});
