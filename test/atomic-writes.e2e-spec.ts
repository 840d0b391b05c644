import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expectData, expectError } from './support/envelope';
import { createOrg, createProjectTask, idemKey } from './support/pt-helpers';
import { asTestApp, ServerProcess, sleep, startServerProcess } from './support/server-process';
import { createTestApp, createTestDatabase, TestApp } from './support/test-app';
import { BOUNDARY, eventually, filesUnder, MULTIPART, PNG, sendFile } from './support/upload-helpers';
import { bearer, registerUser, SignedInUser } from './support/users';

// Writes and the effects that belong to them commit together, or not at all, whatever fails and
// whenever the process dies: the response an Idempotency-Key replays (stored in the creating
// transaction), and uploaded files (stored under a reservation that the row's transaction takes
// back, so that a file never outlives a failed upload, nor a row its file).

async function createTask(
  t: TestApp,
  user: SignedInUser,
): Promise<{ orgId: string; projectId: string; taskId: string }> {
  const orgId = await createOrg(t, user, 'Atomic');
  return { orgId, ...(await createProjectTask(t, user, orgId)) };
}

describe('Idempotency-Key: the response is stored in the transaction that creates', () => {
  let t: TestApp;
  let user: SignedInUser;
  let ids: { orgId: string; projectId: string; taskId: string };

  beforeAll(async () => {
    t = await createTestApp();
    user = await registerUser(t);
    ids = await createTask(t, user);
    // A store that fails for the keys listed in fail_store, as a database error would.
    await t.dataSource.query('CREATE TABLE fail_store (key text PRIMARY KEY)');
    await t.dataSource.query(`
      CREATE FUNCTION refuse_idempotent_store() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.state = 'completed' AND EXISTS (SELECT 1 FROM fail_store WHERE key = NEW.key) THEN
          RAISE EXCEPTION 'the store failed';
        END IF;
        RETURN NEW;
      END $$`);
    await t.dataSource.query(`
      CREATE TRIGGER refuse_idempotent_store BEFORE UPDATE ON idempotency_keys
        FOR EACH ROW EXECUTE FUNCTION refuse_idempotent_store()`);
    // A creation that takes a while, for tasks titled "slow".
    await t.dataSource.query(`
      CREATE FUNCTION slow_task() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(1.5); RETURN NEW; END $$`);
    await t.dataSource.query(`
      CREATE TRIGGER slow_task BEFORE INSERT ON tasks FOR EACH ROW WHEN (NEW.title = 'slow') EXECUTE FUNCTION slow_task()`);
  });
  afterAll(() => t.close());

  const routes = () =>
    [
      ['POST /projects/{projectId}/tasks', `/api/v1/projects/${ids.projectId}/tasks`, { title: 'Once' }, 'tasks'],
      ['POST /tasks/{taskId}/comments', `/api/v1/tasks/${ids.taskId}/comments`, { body: 'Once' }, 'comments'],
      ['POST /orgs/{orgId}/projects', `/api/v1/orgs/${ids.orgId}/projects`, { key: 'ONCE', name: 'Once' }, 'projects'],
    ] as const;

  const count = async (table: string) =>
    ((await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table}`)) as { n: number }[])[0].n;
  const post = (url: string, key: string, body: object) =>
    t.http().post(url).set(bearer(user.accessToken)).set('Idempotency-Key', key).send(body);

  it.each(['POST /projects/{projectId}/tasks', 'POST /tasks/{taskId}/comments', 'POST /orgs/{orgId}/projects'])(
    '%s: if storing the response fails, nothing is created, and a retry creates once',
    async (label) => {
      const [, url, body, table] = routes().find(([name]) => name === label)!;
      const key = idemKey();
      await t.dataSource.query('INSERT INTO fail_store (key) VALUES ($1)', [key]);
      const before = await count(table);
      expectError(await post(url, key, body), 500, 'INTERNAL');
      expect(await count(table)).toBe(before);
      expect(await t.dataSource.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).toEqual([]);

      // The same key again, now that storing works: created once, then replayed.
      await t.dataSource.query('DELETE FROM fail_store WHERE key = $1', [key]);
      const first = await post(url, key, body);
      const created = expectData<{ id: string }>(first, 201);
      const again = await post(url, key, body);
      expect(expectData<{ id: string }>(again, 201).id).toBe(created.id);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers.location).toBe(first.headers.location);
      expect(await count(table)).toBe(before + 1);
    },
  );

  it('the stored response is already there when the created resource is visible', async () => {
    const key = idemKey();
    const res = await post(`/api/v1/projects/${ids.projectId}/tasks`, key, { title: 'Stored with it' });
    const task = expectData<{ id: string }>(res, 201);
    const [row] = await t.dataSource.query(
      `SELECT k.state, k.response_status, k.response_location, k.response_body->'id' AS id
         FROM idempotency_keys k WHERE k.key = $1`,
      [key],
    );
    expect(row).toEqual({
      state: 'completed',
      response_status: 201,
      response_location: `/api/v1/tasks/${task.id}`,
      id: task.id,
    });
  });

  it('a request whose claim was taken over (it ran past the stale limit) creates nothing: one resource in all', async () => {
    const url = `/api/v1/projects/${ids.projectId}/tasks`;
    const key = idemKey();
    const before = await count('tasks');
    const slow = post(url, key, { title: 'slow' }).then((res) => res);
    // The first request holds its claim and sleeps in its transaction...
    expect(
      await eventually(
        async () => (await t.dataSource.query('SELECT 1 FROM idempotency_keys WHERE key = $1', [key])).length === 1,
      ),
    ).toBe(true);
    await sleep(200);
    // ...until its claim is as old as a claim of a crashed request, and a retry takes it over.
    await t.dataSource.query(`UPDATE idempotency_keys SET created_at = now() - interval '3 minutes' WHERE key = $1`, [
      key,
    ]);
    const retry = post(url, key, { title: 'slow' }).then((res) => res);
    const [first, second] = await Promise.all([slow, retry]);
    expectError(first, 409, 'IDEMPOTENCY_IN_PROGRESS');
    const created = expectData<{ id: string }>(second, 201);
    expect(await count('tasks')).toBe(before + 1);
    const replay = await post(url, key, { title: 'slow' });
    expect(expectData<{ id: string }>(replay, 201).id).toBe(created.id);
  });
});

describe('uploads: the file and its row, whatever fails and whenever the process dies', () => {
  let uploadDir: string;
  let database: { url: string; drop(): Promise<void> };
  let server: ServerProcess;
  let user: SignedInUser;
  let taskId: string;

  const start = async () => {
    server = await startServerProcess({ UPLOAD_DIR: uploadDir }, { databaseUrl: database.url });
  };

  beforeAll(async () => {
    uploadDir = mkdtempSync(join(tmpdir(), 'tasklane-atomic-'));
    database = await createTestDatabase();
    await start();
    const t = asTestApp(server);
    user = await registerUser(t);
    taskId = (await createTask(t, user)).taskId;
    await server.query(`
      CREATE FUNCTION slow_attachment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(3); RETURN NEW; END $$`);
    await server.query(`
      CREATE TRIGGER slow_attachment BEFORE INSERT ON attachments
        FOR EACH ROW WHEN (NEW.filename LIKE 'slow%') EXECUTE FUNCTION slow_attachment()`);
    await server.query(`
      CREATE FUNCTION refuse_attachment() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused'; END $$`);
    await server.query(`
      CREATE TRIGGER refuse_attachment BEFORE INSERT ON attachments
        FOR EACH ROW WHEN (NEW.filename LIKE 'refused%') EXECUTE FUNCTION refuse_attachment()`);
  }, 60_000);
  afterAll(async () => {
    await server.dispose();
    await database.drop();
    rmSync(uploadDir, { recursive: true, force: true });
  });

  const stored = () => filesUnder(join(uploadDir, 'attachments'));
  const incoming = () => filesUnder(join(uploadDir, 'incoming'));
  const rows = async () => (await server.query<{ n: number }>('SELECT count(*)::int AS n FROM attachments'))[0].n;
  const reservations = () =>
    server.query<{ storage_key: string; due: boolean }>(
      'SELECT storage_key, due_at <= now() AS due FROM file_deletions',
    );
  const restart = async () => {
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    await server.dispose();
    await start();
  };

  it('a row that fails to commit leaves no file: its reservation is removed at once', async () => {
    const before = { files: stored(), rows: await rows() };
    const res = await sendFile(
      asTestApp(server),
      'post',
      `/api/v1/tasks/${taskId}/attachments`,
      user,
      PNG,
      'refused.png',
    );
    expectError(res, 500, 'INTERNAL');
    expect(await rows()).toBe(before.rows);
    expect(await eventually(() => stored().length === before.files.length)).toBe(true);
    expect(await reservations()).toEqual([]);
  });

  it('a process killed between storing the file and committing its row: the file is removed once the reservation is due', async () => {
    const before = { files: stored(), rows: await rows() };
    const upload = sendFile(
      asTestApp(server),
      'post',
      `/api/v1/tasks/${taskId}/attachments`,
      user,
      PNG,
      'slow.png',
    ).catch(() => undefined);
    // The file is stored and the row's transaction is under way (sleeping in the trigger)...
    expect(await eventually(() => stored().length === before.files.length + 1, 5000)).toBe(true);
    const [reservation] = await reservations();
    expect(reservation).toMatchObject({ due: false });
    // ...when the process dies.
    await restart();
    await upload;
    expect(await rows()).toBe(before.rows);
    // Not due yet: an upload could still be finishing, so the file stays...
    expect(stored()).toHaveLength(before.files.length + 1);
    // ...until its time comes (here: now), when the next sweep (at boot, and every minute) removes it.
    await server.query(`UPDATE file_deletions SET due_at = now() - interval '1 minute'`);
    await restart();
    expect(await eventually(() => stored().length === before.files.length, 5000)).toBe(true);
    expect(await reservations()).toEqual([]);
  }, 60_000);

  it('an upload cut off by the process dying leaves a temporary file that is removed once stale', async () => {
    const socket = connect(server.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    socket.write(
      `POST /api/v1/tasks/${taskId}/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.accessToken}\r\n` +
        `Content-Type: ${MULTIPART}\r\nContent-Length: 5000000\r\n\r\n` +
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="cut.txt"\r\nContent-Type: text/plain\r\n\r\n` +
        'x'.repeat(100_000),
    );
    expect(await eventually(() => incoming().length === 1, 5000)).toBe(true);
    const partial = join(uploadDir, 'incoming', incoming()[0]);
    await restart();
    socket.destroy();
    // A fresh one may belong to an upload of another instance sharing the folder: kept at boot...
    expect(incoming().map((name) => join(uploadDir, 'incoming', name))).toEqual([partial]);
    // ...and removed once nobody has written to it for 10 minutes.
    const old = new Date(Date.now() - 11 * 60 * 1000);
    utimesSync(partial, old, old);
    writeFileSync(join(uploadDir, 'incoming', 'fresh-upload'), 'still arriving');
    await restart();
    expect(existsSync(partial)).toBe(false);
    expect(incoming()).toEqual(['fresh-upload']);
  }, 60_000);
});
