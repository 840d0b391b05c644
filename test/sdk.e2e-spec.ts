import { execFile } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  createTasklaneClient,
  type Schemas,
  type TasklaneClient,
  type TasklaneClientOptions,
  TasklaneError,
  type Tokens,
} from '../clients/typescript/src';
import { UUID } from './support/envelope';
import { createTestApp, TEST_JWT_SECRET, TestApp } from './support/test-app';
import { login, registerUser, SignedInUser } from './support/users';

// The TypeScript SDK (clients/typescript) against the real server, through the whole HTTP
// pipeline: sign-in and token refresh, pagination, idempotency keys and retries, typed errors —
// and the drift check of its generated files against the document the server serves.

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..');

/** Counts the requests a client sends, by `METHOD /path`, and lets a test break some of them. */
class Wire {
  readonly sent: { method: string; path: string; headers: Headers }[] = [];
  /** Called before each request; may answer or throw instead of the server. */
  fault?: (req: Request, attempt: number) => Response | Error | undefined;
  /** Called with each real answer; may throw to lose it, as a dropped connection does. */
  lose?: (req: Request, attempt: number) => boolean;

  readonly fetch = async (req: Request): Promise<Response> => {
    const path = new URL(req.url).pathname;
    this.sent.push({ method: req.method, path, headers: new Headers(req.headers) });
    const attempt = this.count(req.method, path);
    const fault = this.fault?.(req, attempt);
    if (fault instanceof Error) throw fault;
    if (fault) return fault;
    const res = await fetch(req);
    if (this.lose?.(req, attempt)) {
      await res.body?.cancel();
      throw new TypeError('fetch failed (the answer was lost)');
    }
    return res;
  };

  count(method: string, path: string): number {
    return this.sent.filter((s) => s.method === method && s.path === path).length;
  }
}

/** An access token exactly like the server's, but expired a minute ago (correctly signed). */
function expired(accessToken: string): string {
  const [header, payload] = accessToken.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iat: number; exp: number };
  const lifetime = claims.exp - claims.iat;
  const exp = Math.floor(Date.now() / 1000) - 60;
  const body = Buffer.from(JSON.stringify({ ...claims, iat: exp - lifetime, exp })).toString('base64url');
  const signature = createHmac('sha256', TEST_JWT_SECRET).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

async function caught(promise: Promise<unknown>): Promise<TasklaneError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TasklaneError);
  return error as TasklaneError;
}

describe('the TypeScript SDK (clients/typescript)', () => {
  let t: TestApp;
  let baseUrl: string;
  let owner: SignedInUser;
  let wire: Wire;
  let tokens: Tokens[];
  let sdk: TasklaneClient;
  let orgId: string;
  let projectId: string;

  const clientFor = (options: Partial<TasklaneClientOptions>) =>
    createTasklaneClient({ baseUrl, fetch: (req) => wire.fetch(req), ...options });

  beforeAll(async () => {
    t = await createTestApp();
    baseUrl = `http://127.0.0.1:${(t.server.address() as AddressInfo).port}`;
    owner = await registerUser(t, { name: 'SDK Owner' });
  });
  afterAll(() => t.close());
  beforeEach(() => {
    wire = new Wire();
    tokens = [];
  });

  it('signs in with email and password on first use, once for concurrent first calls, and reports the tokens', async () => {
    sdk = clientFor({
      credentials: { email: owner.email, password: owner.password },
      onTokens: (pair) => void tokens.push(pair),
    });
    const [me, again] = await Promise.all([sdk.GET('/api/v1/auth/me'), sdk.GET('/api/v1/auth/me')]);
    expect(me.data.data).toMatchObject({ id: owner.id, email: owner.email });
    expect(again.data.data.id).toBe(owner.id);
    expect(wire.count('POST', '/api/v1/auth/login')).toBe(1);
    expect(tokens).toHaveLength(1);
    expect(tokens[0]).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), expiresIn: 900 });
    expect(sdk.tokens).toEqual({ accessToken: tokens[0].accessToken, refreshToken: tokens[0].refreshToken });
    // The public sign-in carried no credentials; the calls carried the new access token.
    const [signIn, ...calls] = wire.sent;
    expect(signIn.headers.has('authorization')).toBe(false);
    for (const call of calls) expect(call.headers.get('authorization')).toBe(`Bearer ${tokens[0].accessToken}`);
  });

  it('creates an org, a project and tasks; the same Idempotency-Key replays the first creation', async () => {
    const org = await sdk.POST('/api/v1/orgs', { body: { name: 'SDK Org' } });
    expect(org.response.status).toBe(201);
    orgId = org.data.data.id;
    // POST /orgs documents no Idempotency-Key, so none is sent.
    expect(wire.sent.at(-1)!.headers.has('idempotency-key')).toBe(false);

    const project = await sdk.POST('/api/v1/orgs/{orgId}/projects', {
      params: { path: { orgId } },
      body: { key: 'SDK', name: 'SDK project' },
    });
    projectId = project.data.data.id;
    // Documented there: the client sent a key of its own.
    expect(wire.sent.at(-1)!.headers.get('idempotency-key')).toMatch(UUID);

    const key = `sdk-${randomBytes(6).toString('hex')}`;
    const create = () =>
      sdk.POST('/api/v1/projects/{projectId}/tasks', {
        params: { path: { projectId }, header: { 'Idempotency-Key': key } },
        body: { title: 'Write the SDK' },
      });
    const first = await create();
    const replay = await create();
    expect(first.response.status).toBe(201);
    expect(first.response.headers.get('Idempotent-Replayed')).toBeNull();
    expect(replay.response.status).toBe(201);
    expect(replay.response.headers.get('Idempotent-Replayed')).toBe('true');
    expect(replay.data.data.id).toBe(first.data.data.id);
    expect(wire.sent.slice(-2).map((s) => s.headers.get('idempotency-key'))).toEqual([key, key]);
  });

  it('retries a keyed creation whose answer was lost with the same key: one task, the replayed answer', async () => {
    const title = `lost answer ${randomBytes(4).toString('hex')}`;
    wire.lose = (req, attempt) => req.method === 'POST' && attempt === 1;
    const res = await sdk.POST('/api/v1/projects/{projectId}/tasks', {
      params: { path: { projectId } },
      body: { title },
    });
    const attempts = wire.sent.filter((s) => s.method === 'POST');
    expect(attempts).toHaveLength(2);
    expect(attempts[1].headers.get('idempotency-key')).toBe(attempts[0].headers.get('idempotency-key'));
    expect(res.response.headers.get('Idempotent-Replayed')).toBe('true');
    const rows = await t.dataSource.query(`SELECT id FROM tasks WHERE title = $1`, [title]);
    expect(rows).toEqual([{ id: res.data.data.id }]);
  });

  it('waits out a 503 with Retry-After and retries with the same key; a creation without a key is not retried', async () => {
    wire.fault = (req, attempt) =>
      req.method === 'POST' && attempt === 1
        ? new Response(null, { status: 503, headers: { 'Retry-After': '0' } })
        : undefined;
    const res = await sdk.POST('/api/v1/projects/{projectId}/tasks', {
      params: { path: { projectId } },
      body: { title: 'After a 503' },
    });
    expect(res.response.status).toBe(201);
    const [a, b] = wire.sent.map((s) => s.headers.get('idempotency-key'));
    expect(a).toMatch(UUID);
    expect(b).toBe(a);

    // POST /orgs takes no key: after a network error it may have been created, so it is not sent again.
    wire = new Wire();
    const noRetry = clientFor({ credentials: { accessToken: sdk.tokens!.accessToken } });
    wire.fault = () => new TypeError('fetch failed');
    await expect(noRetry.POST('/api/v1/orgs', { body: { name: 'Maybe' } })).rejects.toThrow('fetch failed');
    expect(wire.sent).toHaveLength(1);
    // Nor with a key of the caller's: the server ignores it there, so a resend could create twice.
    await expect(
      noRetry.POST('/api/v1/orgs', { body: { name: 'Maybe' }, headers: { 'Idempotency-Key': 'mine' } }),
    ).rejects.toThrow('fetch failed');
    expect(wire.sent).toHaveLength(2);
  });

  it('paginates a list of several pages: every item once, in the order of the list', async () => {
    for (let i = 0; i < 8; i++) {
      await sdk.POST('/api/v1/projects/{projectId}/tasks', {
        params: { path: { projectId } },
        body: { title: `page item ${i}` },
      });
    }
    const whole = await sdk.GET('/api/v1/projects/{projectId}/tasks', {
      params: { path: { projectId }, query: { limit: 100 } },
    });
    const expected = whole.data.data.map((task) => task.id);
    expect(expected.length).toBeGreaterThanOrEqual(10);

    wire = new Wire();
    const seen: Schemas['TaskResponse'][] = [];
    for await (const task of sdk.paginate('/api/v1/projects/{projectId}/tasks', {
      params: { path: { projectId }, query: { limit: 3 } },
    })) {
      seen.push(task);
    }
    expect(seen.map((task) => task.id)).toEqual(expected);
    expect(new Set(seen.map((task) => task.id)).size).toBe(seen.length);
    expect(wire.sent).toHaveLength(Math.ceil(expected.length / 3));
    expect(wire.sent.every((s) => s.path === `/api/v1/projects/${projectId}/tasks`)).toBe(true);
  });

  it('renews an expired access token once and retries the call, persisting the new tokens', async () => {
    const session = await login(t, owner.email, owner.password);
    const client = clientFor({
      credentials: { accessToken: expired(session.accessToken), refreshToken: session.refreshToken },
      onTokens: (pair) => void tokens.push(pair),
    });
    const res = await client.GET('/api/v1/projects/{projectId}', { params: { path: { projectId } } });
    expect(res.data.data.id).toBe(projectId);
    expect(wire.count('POST', '/api/v1/auth/refresh')).toBe(1);
    expect(wire.count('GET', `/api/v1/projects/${projectId}`)).toBe(2);
    expect(tokens).toHaveLength(1);
    expect(tokens[0].refreshToken).not.toBe(session.refreshToken); // the old one is spent
    expect(client.tokens?.accessToken).toBe(tokens[0].accessToken);
  });

  it('shares one refresh between concurrent calls that all met the expired token', async () => {
    const session = await login(t, owner.email, owner.password);
    const client = clientFor({
      credentials: { accessToken: expired(session.accessToken), refreshToken: session.refreshToken },
      onTokens: (pair) => void tokens.push(pair),
    });
    const results = await Promise.all([
      client.GET('/api/v1/auth/me'),
      client.GET('/api/v1/orgs/{orgId}', { params: { path: { orgId } } }),
      client.GET('/api/v1/projects/{projectId}/tasks', { params: { path: { projectId }, query: { limit: 1 } } }),
      client.GET('/api/v1/projects/{projectId}', { params: { path: { projectId } } }),
    ]);
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200, 200]);
    expect(wire.count('POST', '/api/v1/auth/refresh')).toBe(1);
    // Each call met the 401 and was sent once more: 4 + 1 refresh + 4.
    expect(wire.sent).toHaveLength(9);
    expect(tokens).toHaveLength(1);
  });

  it('answers UNAUTHENTICATED, after one refresh attempt, when the refresh token is no good', async () => {
    const session = await login(t, owner.email, owner.password);
    await t.http().post('/api/v1/auth/logout').send({ refreshToken: session.refreshToken }).expect(204);
    const client = clientFor({ credentials: session });
    const error = await caught(client.GET('/api/v1/auth/me'));
    expect(error).toMatchObject({ status: 401, code: 'UNAUTHENTICATED', requestId: expect.any(String) });
    expect(wire.count('POST', '/api/v1/auth/refresh')).toBe(1);
    expect(wire.count('GET', '/api/v1/auth/me')).toBe(1);
  });

  it('works with an org API key, where the API accepts one', async () => {
    const created = await sdk.POST('/api/v1/orgs/{orgId}/api-keys', {
      params: { path: { orgId } },
      body: { name: 'SDK test', role: 'member' },
    });
    const apiKey = created.data.data.token;
    expect(apiKey).toMatch(/^tl_/);
    wire = new Wire();
    const bot = clientFor({ credentials: { apiKey } });

    const projects = await bot.GET('/api/v1/orgs/{orgId}/projects', { params: { path: { orgId } } });
    expect(projects.data.data.map((p) => p.id)).toContain(projectId);
    const task = await bot.POST('/api/v1/projects/{projectId}/tasks', {
      params: { path: { projectId } },
      body: { title: 'Made by a key' },
    });
    expect(task.response.status).toBe(201);
    expect(wire.sent.every((s) => s.headers.get('authorization') === `Bearer ${apiKey}`)).toBe(true);

    // GET /auth/me needs a person: a 401 that no refresh can mend.
    const error = await caught(bot.GET('/api/v1/auth/me'));
    expect(error.code).toBe('UNAUTHENTICATED');
    expect(wire.count('POST', '/api/v1/auth/refresh')).toBe(0);
  });

  it('throws typed errors: NOT_FOUND across tenants, VALIDATION_FAILED with details', async () => {
    const { data } = await sdk.POST('/api/v1/projects/{projectId}/tasks', {
      params: { path: { projectId } },
      body: { title: 'Private to the org' },
    });
    const stranger = await registerUser(t, { name: 'Stranger' });
    const outsider = clientFor({ credentials: { email: stranger.email, password: stranger.password } });
    const notFound = await caught(
      outsider.GET('/api/v1/tasks/{taskId}', { params: { path: { taskId: data.data.id } } }),
    );
    expect(notFound).toMatchObject({ status: 404, code: 'NOT_FOUND', details: [] });
    expect(notFound.message).toMatch(/not found/i);
    expect(notFound.requestId).toBe(notFound.response.headers.get('X-Request-Id'));

    const invalid = await caught(
      sdk.POST('/api/v1/projects/{projectId}/tasks', { params: { path: { projectId } }, body: { title: '' } }),
    );
    expect(invalid).toMatchObject({ status: 400, code: 'VALIDATION_FAILED' });
    expect(invalid.details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'title' })]));
    expect(invalid.body).toEqual({ error: expect.objectContaining({ code: 'VALIDATION_FAILED' }) });

    // The raw openapi-fetch client answers the same error without throwing.
    const raw = await sdk.raw.GET('/api/v1/tasks/{taskId}', { params: { path: { taskId: randomUUID() } } });
    expect(raw.response.status).toBe(404);
    expect(raw.error?.error.code).toBe('NOT_FOUND');
  });

  it('signs out: the session ends on the server', async () => {
    const client = clientFor({ credentials: { email: owner.email, password: owner.password } });
    const { refreshToken } = await client.signIn();
    await client.signOut();
    expect(client.tokens).toBeUndefined();
    await t.http().post('/api/v1/auth/refresh').send({ refreshToken }).expect(401);
  });

  describe('drift check (npm run sdk:check)', () => {
    let dir: string;
    let document: { paths: Record<string, unknown> };
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tasklane-sdk-'));
      document = (await t.http().get('/docs/openapi.json').expect(200)).body;
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    async function check(doc: object): Promise<{ code: number; output: string }> {
      const file = join(dir, `openapi-${randomBytes(4).toString('hex')}.json`);
      writeFileSync(file, JSON.stringify(doc));
      const args = ['-r', './tools/swc-register.js', 'tools/generate-sdk.ts', '--check', '--document', file];
      try {
        const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT });
        return { code: 0, output: stdout + stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
      }
    }

    it('the committed schema.ts and operations.ts are what the served document generates', async () => {
      const result = await check(document);
      // On failure: run `npm run sdk:generate` and commit clients/typescript/src.
      expect(result).toEqual({ code: 0, output: expect.stringContaining('match the document') });
    }, 120_000);

    it('fails, saying where and what to run, when the document changes', async () => {
      const paths = { ...document.paths };
      delete paths['/api/v1/auth/me'];
      const result = await check({ ...document, paths });
      expect(result.code).toBe(1);
      expect(result.output).toContain('clients/typescript/src/schema.ts: first difference at line');
      expect(result.output).toContain('npm run sdk:generate');
    }, 120_000);
  });
});

/** Compile-time checks: `npm run typecheck` fails when the SDK stops being typed from the document. */
export function typeChecks(client: TasklaneClient): void {
  // @ts-expect-error not a path of the API
  void client.GET('/api/v1/nope');
  // @ts-expect-error a required path parameter is missing
  void client.GET('/api/v1/projects/{projectId}', { params: { path: {} } });
  // @ts-expect-error the body of a task creation needs a title
  void client.POST('/api/v1/projects/{projectId}/tasks', { params: { path: { projectId: 'x' } }, body: {} });
  // @ts-expect-error GET /auth/me is not a list
  void client.paginate('/api/v1/auth/me');
  const items = client.paginate('/api/v1/orgs/{orgId}/projects', { params: { path: { orgId: 'x' } } });
  const project: AsyncGenerator<Schemas['ProjectResponse']> = items;
  void project;
}
