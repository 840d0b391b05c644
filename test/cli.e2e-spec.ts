import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { verify } from '@node-rs/argon2';
import { Client } from 'pg';
import { MIGRATIONS } from '../src/database/migrations';
import { ROOT, runSource, sleep, sourceCommand, startServerProcess, testProcessEnv } from './support/server-process';
import { createTestDatabase } from './support/test-app';

// The admin commands as an operator runs them: a real process (src/cli.ts, as `npm run cli`
// runs it), a real database, its exit code and what it prints. Migrations as a deploy step:
// MIGRATIONS_RUN=false on the servers, `npm run cli -- migrate` before them.

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

async function cli(
  args: string[],
  databaseUrl: string,
  options: { stdin?: string; env?: Record<string, string>; entry?: string } = {},
): Promise<Run> {
  const child = runSource(
    options.entry ?? 'src/cli.ts',
    args,
    { DATABASE_URL: databaseUrl, ...options.env },
    options.stdin === undefined ? 'ignore' : 'pipe',
  );
  child.stdin?.end(options.stdin);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

async function query<T = Record<string, unknown>>(url: string, sql: string, values: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as T[];
  } finally {
    await client.end();
  }
}

const applied = (url: string) =>
  query<{ name: string }>(url, 'SELECT name FROM migrations ORDER BY id').then((rows) => rows.map((r) => r.name));
const ALL = MIGRATIONS.map((m) => m.name);

describe('npm run cli', () => {
  const databases: { url: string; drop(): Promise<void> }[] = [];
  const fresh = async () => {
    const database = await createTestDatabase();
    databases.push(database);
    return database.url;
  };
  afterAll(() => Promise.all(databases.map((d) => d.drop())));

  describe('migrate and migrate:revert', () => {
    it('migrate applies every migration, finishes, and is a no-op the second time', async () => {
      const url = await fresh();
      const first = await cli(['migrate'], url);
      expect(first).toMatchObject({ code: 0, stdout: 'Migrations are up to date\n' });
      for (const name of ALL) expect(first.stderr).toContain(`Applied migration ${name}`);
      expect(await applied(url)).toEqual(ALL);
      const second = await cli(['migrate'], url);
      expect(second).toMatchObject({ code: 0, stdout: 'Migrations are up to date\n' });
      expect(second.stderr).not.toContain('Applied migration');
    }, 60_000);

    it('two migrate runs at once: one migrates, the other waits for it, each migration applied once', async () => {
      const url = await fresh();
      const [a, b] = await Promise.all([cli(['migrate'], url), cli(['migrate'], url)]);
      expect([a.code, b.code]).toEqual([0, 0]);
      expect(await applied(url)).toEqual(ALL);
      const appliedBy = [a, b].map((run) => (run.stderr.match(/Applied migration/g) ?? []).length).sort();
      expect(appliedBy).toEqual([0, ALL.length]);
    }, 60_000);

    it('migrate:revert undoes the last migration only, and migrate applies it again', async () => {
      const url = await fresh();
      await cli(['migrate'], url);
      const reverted = await cli(['migrate:revert'], url);
      expect(reverted).toMatchObject({ code: 0, stdout: 'Reverted the last migration\n' });
      expect(await applied(url)).toEqual(ALL.slice(0, -1));
      // the last migration's down() ran: the audit indexes without their tie-breaker again, the
      // entity index back, the labels index on labels alone; the rest (the list indexes of the
      // migration before it, the plan-cached lookups, the webhooks table) stays
      const CHANGED = [
        'audit_events_action_idx',
        'audit_events_actor_idx',
        'audit_events_entity_idx',
        'tasks_labels_idx',
        'tasks_project_labels_idx',
      ];
      const indexes = async () =>
        (
          await query<{ indexname: string; indexdef: string }>(
            url,
            `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND indexname = ANY ($1) ORDER BY indexname`,
            [CHANGED],
          )
        ).map((i) => `${i.indexname}: ${i.indexdef.replace(/^.* USING /, '')}`);
      const listIndexes = async () =>
        (
          await query<{ indexname: string }>(
            url,
            `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname IN
               ('audit_events_org_api_key_idx', 'audit_events_org_entity_id_idx', 'audit_events_org_entity_type_idx',
                'tasks_org_due_desc_idx', 'tasks_project_due_desc_idx')`,
          )
        ).length;
      const functions = async () =>
        (
          await query<{ proname: string }>(
            url,
            `SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
              WHERE n.nspname = 'public' AND p.proname IN ('task_for_principal', 'project_for_principal', 'role_on_task', 'role_in_org')
              ORDER BY p.proname`,
          )
        ).map((f) => f.proname);
      const webhookTables = async () =>
        (
          await query<{ table_name: string }>(
            url,
            `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'webhooks'`,
          )
        ).length;
      const lookups = ['project_for_principal', 'role_in_org', 'role_on_task', 'task_for_principal'];
      expect(await indexes()).toEqual([
        'audit_events_action_idx: btree (org_id, action, created_at)',
        'audit_events_actor_idx: btree (org_id, actor_id, created_at)',
        'audit_events_entity_idx: btree (org_id, entity_type, entity_id, created_at)',
        'tasks_labels_idx: gin (labels)',
      ]);
      expect(await listIndexes()).toBe(5);
      expect(await functions()).toEqual(lookups);
      expect(await webhookTables()).toBe(1);
      expect((await cli(['migrate'], url)).code).toBe(0);
      expect(await applied(url)).toEqual(ALL);
      expect(await indexes()).toEqual([
        'audit_events_action_idx: btree (org_id, action, created_at, id)',
        'audit_events_actor_idx: btree (org_id, actor_id, created_at, id)',
        'tasks_project_labels_idx: gin (project_id, labels)',
      ]);
      expect(await listIndexes()).toBe(5);
      expect(await functions()).toEqual(lookups);
    }, 60_000);

    it('as a deploy step: a server with MIGRATIONS_RUN=false is not ready until migrate has run', async () => {
      const url = await fresh();
      // The schema up to the previous release, as a deployed database would be.
      await cli(['migrate'], url);
      await cli(['migrate:revert'], url);
      const server = await startServerProcess({ MIGRATIONS_RUN: 'false' }, { databaseUrl: url });
      try {
        const before = await fetch(`${server.url}/health/ready`);
        expect(before.status).toBe(503);
        expect(((await before.json()) as { error: Record<string, unknown> }).error.migrations).toMatchObject({
          status: 'down',
          message: 'pending migrations',
        });
        expect((await cli(['migrate'], url)).code).toBe(0);
        let status = 0;
        for (let i = 0; i < 40 && status !== 200; i++) {
          await sleep(100);
          status = (await fetch(`${server.url}/health/ready`)).status;
        }
        expect(status).toBe(200);
      } finally {
        await server.dispose();
      }
    }, 60_000);
  });

  describe('the upgrade that brings the job queue, with MIGRATIONS_RUN=false', () => {
    it('boots, is not ready (migrations and job queue) until migrate has run, then works jobs', async () => {
      const url = await fresh();
      // A database of the release before: its migrations applied, no job queue schema yet.
      await cli(['migrate'], url);
      await cli(['migrate:revert'], url);
      await query(url, 'DROP SCHEMA pgboss CASCADE');
      const server = await startServerProcess({ MIGRATIONS_RUN: 'false' }, { databaseUrl: url });
      try {
        const before = await fetch(`${server.url}/health/ready`);
        expect(before.status).toBe(503);
        const { error } = (await before.json()) as { error: Record<string, { status: string }> };
        expect(error.jobs).toMatchObject({ status: 'down' });
        const migrated = await cli(['migrate'], url);
        expect(migrated.code).toBe(0);
        expect(await query(url, `SELECT count(*)::int AS n FROM pgboss.version`)).toEqual([{ n: 1 }]);
        let status = 0;
        for (let i = 0; i < 60 && status !== 200; i++) {
          await sleep(100);
          status = (await fetch(`${server.url}/health/ready`)).status;
        }
        expect(status).toBe(200);
        // the queue works: a password reset for an unknown email is queued and done
        const reset = await fetch(`${server.url}/api/v1/auth/password-reset`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ email: 'nobody@example.com' }),
        });
        expect(reset.status).toBe(202);
        let done: unknown[] = [];
        for (let i = 0; i < 100 && done.length === 0; i++) {
          await sleep(100);
          done = await query(
            url,
            `SELECT id FROM pgboss.job WHERE name = 'password-reset.request' AND state = 'completed'`,
          );
        }
        expect(done).toHaveLength(1);
      } finally {
        await server.dispose();
      }
    }, 60_000);
  });

  describe('create-admin and seed-demo', () => {
    let url: string;
    beforeAll(async () => {
      url = await fresh();
    });

    /** The stored hash of `email` verifies `password` (the one the command was given, newline and all removed). */
    const passwordOf = async (email: string, password: string): Promise<boolean> => {
      const [row] = await query<{ password_hash: string }>(
        url,
        `SELECT password_hash FROM users WHERE email = '${email}'`,
      );
      return verify(row.password_hash, password);
    };

    it('create-admin --password-stdin creates a platform admin once; the second time it says so and exits 2', async () => {
      const args = ['create-admin', '--email', 'Ops@Example.com', '--name', 'Ops', '--password-stdin'];
      // as `echo "$PASSWORD" | npm run cli -- …` gives it: one line, its newline not part of the password
      const first = await cli(args, url, { stdin: 'a long admin password\n' });
      expect(first).toMatchObject({ code: 0, stdout: 'Created admin ops@example.com\n' });
      expect(first.stderr).not.toContain('Warning');
      expect(await query(url, `SELECT email, name, role FROM users WHERE email = 'ops@example.com'`)).toEqual([
        { email: 'ops@example.com', name: 'Ops', role: 'admin' },
      ]);
      expect(await passwordOf('ops@example.com', 'a long admin password')).toBe(true);
      const second = await cli(args, url, { stdin: 'another long password\n' });
      expect(second).toMatchObject({
        code: 2,
        stdout: 'A user with email ops@example.com already exists; nothing changed\n',
      });
      expect(await passwordOf('ops@example.com', 'a long admin password')).toBe(true);
    }, 60_000);

    it('create-admin --password (for scripts) still works, warning that ps and the shell history show it', async () => {
      const run = await cli(
        ['create-admin', '--email', 'script@example.com', '--password', 'a scripted password'],
        url,
      );
      expect(run).toMatchObject({ code: 0, stdout: 'Created admin script@example.com\n' });
      expect(run.stderr).toContain('Warning: a password given with --password is visible to other users (ps)');
      expect(await passwordOf('script@example.com', 'a scripted password')).toBe(true);
    }, 60_000);

    it('create-admin in production refuses a weak password, as ADMIN_PASSWORD is refused, and creates nobody', async () => {
      const production = {
        NODE_ENV: 'production',
        SMTP_URL: 'smtp://127.0.0.1:1',
        APP_URL: 'https://app.example.test',
        MIGRATIONS_RUN: 'false',
        JOB_WORKERS: 'false',
      };
      const args = ['create-admin', '--email', 'weak@example.com', '--password-stdin'];
      const weak = await cli(args, url, { stdin: 'eight ch\n', env: production });
      expect(weak.code).toBe(1);
      expect(weak.stderr).toContain('In production the admin password must be at least 12 characters');
      const placeholder = await cli(args, url, { stdin: 'my-password-is-long\n', env: production });
      expect(placeholder.stderr).toContain('In production the admin password looks like a placeholder');
      expect(await query(url, `SELECT id FROM users WHERE email = 'weak@example.com'`)).toEqual([]);
    }, 60_000);

    it('create-admin with no password and no terminal exits 1 saying how to give one, and creates nobody', async () => {
      const run = await cli(['create-admin', '--email', 'nobody@example.com'], url);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'No password: run this in a terminal to be asked for it, or pipe it in with --password-stdin',
      );
      expect(await query(url, `SELECT id FROM users WHERE email = 'nobody@example.com'`)).toEqual([]);
    }, 60_000);

    // A real terminal: script(1) (util-linux) runs the command on a pseudo-terminal
    const withTerminal = existsSync('/usr/bin/script') ? it : it.skip;
    withTerminal(
      'create-admin in a terminal asks twice, echoes nothing typed, and creates the admin',
      async () => {
        const command = [
          process.execPath,
          ...sourceCommand('src/cli.ts', ['create-admin', '--email', 'tty@example.com']),
        ]
          .map((word) => `'${word}'`)
          .join(' ');
        const child = spawn('/usr/bin/script', ['-qfec', command, '/dev/null'], {
          cwd: ROOT,
          env: testProcessEnv({ DATABASE_URL: url, SHELL: '/bin/sh' }),
          stdio: ['pipe', 'pipe', 'pipe'],
        });
        let screen = '';
        child.stdout!.on('data', (chunk: Buffer) => (screen += chunk.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        const typeAfter = async (prompt: string, keys: string): Promise<void> => {
          while (!screen.includes(prompt) && child.exitCode === null) await sleep(20);
          child.stdin!.write(keys);
        };
        await typeAfter('Password: ', 'a terminal password\r');
        await typeAfter('Password (again): ', 'a terminal password\r');
        const [code] = (await once(child, 'exit')) as [number | null];
        clearTimeout(timer);
        expect({ code, screen }).toMatchObject({
          code: 0,
          screen: expect.stringContaining('Created admin tty@example.com'),
        });
        expect(screen).not.toContain('a terminal password');
        expect(await passwordOf('tty@example.com', 'a terminal password')).toBe(true);
      },
      60_000,
    );

    it.each([
      [['create-admin', '--email', 'not-an-email', '--password-stdin'], '--email must be an email address'],
      [
        ['create-admin', '--email', 'ops2@example.com', '--password-stdin'],
        'The password must be 8 to 128 characters',
        'short\n',
      ],
      [['create-admin', '--email', 'ops2@example.com', '--password-stdin'], 'standard input was empty', ''],
      [
        ['create-admin', '--email', 'ops2@example.com', '--password', 'a long admin password', '--password-stdin'],
        'Give --password or --password-stdin, not both',
      ],
      [['create-admin', '--email', 'ops2@example.com', '--pasword', 'typo'], "Unknown option '--pasword'"],
      [['frobnicate'], 'Unknown command "frobnicate"'],
    ])(
      '%j exits 1 saying what is wrong',
      async (args, message, stdin = 'a long admin password\n') => {
        const run = await cli(args, url, { stdin });
        expect(run.code).toBe(1);
        expect(run.stderr).toContain(message);
        expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack
        expect(await query(url, `SELECT id FROM users WHERE email = 'ops2@example.com'`)).toEqual([]);
      },
      60_000,
    );

    it('an admin insert the database refuses (create-admin, and ADMIN_EMAIL at boot) exits 1 with the reason, never the SQL, its values or the detail', async () => {
      // Its own database, so that the trigger refusing every new user stays there.
      const frozen = await fresh();
      expect((await cli(['migrate'], frozen)).code).toBe(0);
      await query(
        frozen,
        `CREATE FUNCTION refuse_new_users() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           RAISE EXCEPTION 'new users are refused here'
             USING DETAIL = format('Key (email)=(%s) hash %s', NEW.email, NEW.password_hash),
                   HINT = format('email %s', NEW.email);
         END $$`,
      );
      await query(
        frozen,
        `CREATE TRIGGER refuse_new_users BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION refuse_new_users()`,
      );
      const password = 'a secret admin password';
      const expectReasonOnly = (run: Run, email: string): void => {
        const printed = run.stdout + run.stderr;
        expect(run.code).toBe(1);
        for (const secret of ['$argon2', 'INSERT INTO', email, email.toLowerCase(), password, 'Key (email)']) {
          expect(printed).not.toContain(secret);
        }
        // none of the fields util.inspect prints for a QueryFailedError
        expect(printed).not.toMatch(/^\s*(query|parameters|driverError|detail|hint|where|routine):/m);
        // the reason, on a line of its own: the error's class, its SQLSTATE and PostgreSQL's message
        expect(printed.split('\n')).toContain('QueryFailedError [P0001]: new users are refused here');
      };
      try {
        const created = await cli(
          ['create-admin', '--email', 'Frozen@Example.com', '--name', 'Frozen', '--password-stdin'],
          frozen,
          { stdin: `${password}\n` },
        );
        expectReasonOnly(created, 'Frozen@Example.com');
        // The server (src/main.ts) creating ADMIN_EMAIL at boot, its logs on (JSON lines on stdout).
        const booted = await cli([], frozen, {
          entry: 'src/main.ts',
          env: {
            PORT: '0',
            HOST: '127.0.0.1',
            LOG_LEVEL: 'info',
            ADMIN_EMAIL: 'boot@example.com',
            ADMIN_PASSWORD: password,
            MIGRATIONS_RUN: 'false',
            JOB_WORKERS: 'false',
          },
        });
        expectReasonOnly(booted, 'boot@example.com');
        expect(await query(frozen, `SELECT id FROM users`)).toEqual([]);
      } finally {
        await query(frozen, 'DROP TRIGGER refuse_new_users ON users');
        await query(frozen, 'DROP FUNCTION refuse_new_users()');
      }
    }, 60_000);

    it('seed-demo creates the demo data once', async () => {
      const first = await cli(['seed-demo'], url);
      expect(first).toMatchObject({ code: 0 });
      expect(first.stdout).toContain('Demo data created: sign in as demo@tasklane.dev');
      const [{ n }] = await query<{ n: number }>(url, `SELECT count(*)::int AS n FROM tasks`);
      expect(n).toBeGreaterThan(0);
      const second = await cli(['seed-demo'], url);
      expect(second).toMatchObject({ code: 0, stdout: 'Demo data already there (demo@tasklane.dev)\n' });
    }, 60_000);

    it('help prints the commands and exits 0', async () => {
      const run = await cli(['help'], url);
      expect(run.code).toBe(0);
      for (const command of ['create-admin', 'seed-demo', 'migrate', 'migrate:revert']) {
        expect(run.stdout).toContain(command);
      }
      expect(run.stdout).toContain(
        `printf '%s\\n' "$ADMIN_PASSWORD" | npm run cli -- create-admin --email ops@example.com --password-stdin`,
      );
      expect(run.stdout).toContain('other users see it in ps');
    }, 60_000);
  });
});
