import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsBoolean, IsString } from 'class-validator';
import type { Response } from 'supertest';
import { DataSource } from 'typeorm';
import { Public } from '../src/common/decorators/public.decorator';
import { expectError, JSON_UTF8, UUID } from './support/envelope';
import { createTestApp, createTestDatabase, productionEnv, TestApp } from './support/test-app';
import { bearer, registerUser, uniqueEmail } from './support/users';

// ---------------------------------------------------------------------------------------------
// Test-only routes, mounted in the real pipeline at /api/v1/test/... (kept out of the OpenAPI doc)
// ---------------------------------------------------------------------------------------------

class TypedBody {
  @IsBoolean()
  done: boolean;

  @IsString()
  title: string;
}

/** What a careless error could leak: SQL, a file path, the name of a table. */
const LEAKY_MESSAGE = 'SELECT secret FROM users; at /srv/app.js:1';

@ApiExcludeController()
@Public()
@Controller('test')
class PlatformTestController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Get('ok')
  ok(): { ok: boolean } {
    return { ok: true };
  }

  @Get('boom')
  boom(): never {
    throw new Error(LEAKY_MESSAGE);
  }

  /** An unrecognised database error (relation does not exist): a 500 like any other. */
  @Get('bad-sql')
  badSql(): Promise<unknown> {
    return this.dataSource.query('SELECT secret_column FROM no_such_table_xyz');
  }

  /** The same email twice, straight into the table: the unique index answers, not a service check. */
  @Post('duplicate')
  async duplicate(): Promise<void> {
    const email = uniqueEmail('dup');
    const insert = `INSERT INTO users (email, name, password_hash, role) VALUES ($1, 'Dup', 'x', 'user')`;
    await this.dataSource.query(insert, [email]);
    await this.dataSource.query(insert, [email]);
  }

  /** Outlives DB_STATEMENT_TIMEOUT_MS: PostgreSQL cancels it with 57014. */
  @Get('sleep')
  sleep(): Promise<unknown> {
    return this.dataSource.query('SELECT pg_sleep(2)');
  }

  @Post('typed')
  typed(@Body() body: TypedBody): TypedBody {
    return body;
  }
}

@Module({ controllers: [PlatformTestController] })
class PlatformTestModule {}

// ---------------------------------------------------------------------------------------------

/** Nothing internal anywhere in the response: headers or body. */
function expectNoLeak(res: Response, ...secrets: string[]): void {
  const everything = JSON.stringify(res.headers) + res.text;
  for (const secret of ['stack', 'SELECT', '/srv/', '.js:', '.ts:', 'QueryFailedError', 'node_modules', ...secrets]) {
    expect(everything).not.toContain(secret);
  }
}

describe('platform: envelope, request ids, errors', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ imports: [PlatformTestModule] });
  });
  afterAll(() => t.close());

  describe('success envelope and X-Request-Id', () => {
    it('wraps a result as {data, meta: {requestId}} in UTF-8 JSON, with X-Request-Id = meta.requestId', async () => {
      const user = await registerUser(t);
      const res = await t.http().get(`/api/v1/users/${user.id}`).set(bearer(user.accessToken)).expect(200);
      expect(res.headers['content-type']).toBe(JSON_UTF8);
      expect(res.body).toEqual({
        data: expect.objectContaining({ id: user.id, email: user.email }),
        meta: { requestId: expect.stringMatching(UUID) },
      });
      expect(res.headers['x-request-id']).toBe(res.body.meta.requestId);
    });

    it('gives every request its own id', async () => {
      const a = await t.http().get('/api/v1/test/ok').expect(200);
      const b = await t.http().get('/api/v1/test/ok').expect(200);
      expect(a.body).toEqual({ data: { ok: true }, meta: { requestId: a.headers['x-request-id'] } });
      expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
    });

    it('reuses a well-formed incoming X-Request-Id', async () => {
      const id = 'client-Req_42.retry-1';
      const ok = await t.http().get('/api/v1/test/ok').set('X-Request-Id', id).expect(200);
      expect(ok.headers['x-request-id']).toBe(id);
      expect(ok.body.meta.requestId).toBe(id);

      const longest = 'a'.repeat(128);
      const err = await t.http().get('/api/v1/auth/me').set('X-Request-Id', longest);
      expectError(err, 401, 'UNAUTHENTICATED');
      expect(err.body.error.requestId).toBe(longest);
    });

    it.each([
      ['with a space', 'not ok'],
      ['too long', 'a'.repeat(129)],
      ['with a slash', '../etc/passwd'],
      ['with a quote', 'id"><script>'],
    ])('replaces a malformed incoming X-Request-Id (%s)', async (_label, incoming) => {
      const res = await t.http().get('/api/v1/test/ok').set('X-Request-Id', incoming).expect(200);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.body.meta.requestId).toBe(res.headers['x-request-id']);
    });

    it('carries X-Request-Id on 4xx, unknown routes and 500s alike', async () => {
      const responses = await Promise.all([
        t.http().get('/api/v1/auth/me'), // 401
        t.http().post('/api/v1/test/typed').send({}), // 400
        t.http().get('/api/v1/no-such-route'), // 404 (Nest)
        t.http().get('/nope'), // 404 (outside Nest's routes)
        t.http().get('/api/v1/test/boom'), // 500
      ]);
      expect(responses.map((r) => r.status)).toEqual([401, 400, 404, 404, 500]);
      for (const res of responses) {
        expect(res.headers['x-request-id']).toMatch(UUID);
        expect(res.body.error.requestId).toBe(res.headers['x-request-id']);
      }
    });
  });

  describe('404 for routes that do not exist', () => {
    it.each([
      ['an unknown route under /api/v1', '/api/v1/no-such-route'],
      ['an unknown version', '/api/v2/auth/me'],
      ['an unknown path under /api', '/api/nope'],
      ['/api itself', '/api'],
      ['a root path', '/nope'],
      ['a nested root path', '/nope/deeper?x=1'],
    ])('%s is 404 NOT_FOUND in the error envelope', async (_label, path) => {
      const res = await t.http().get(path);
      expectError(res, 404, 'NOT_FOUND');
    });

    it('an unknown protected-looking route is 404, not 401 (no route, no guard)', async () => {
      const res = await t.http().get('/api/v1/users/me/secrets');
      // /api/v1/users/:id exists for GET; this deeper path does not.
      expectError(res, 404, 'NOT_FOUND');
    });

    it('a wrong method on an existing path is 404 NOT_FOUND', async () => {
      const user = await registerUser(t);
      const res = await t.http().delete('/api/v1/auth/me').set(bearer(user.accessToken));
      expectError(res, 404, 'NOT_FOUND');
      expect(res.body.error.message).toBe('No route for DELETE /api/v1/auth/me');

      expectError(await t.http().put('/api/v1/auth/register').send({}), 404, 'NOT_FOUND');
    });
  });

  describe('request bodies', () => {
    it('invalid JSON is 400 MALFORMED_BODY', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .set('Content-Type', 'application/json')
        .send('{"email": "a@example.com",');
      expectError(res, 400, 'MALFORMED_BODY');
      expectNoLeak(res, 'Unexpected', 'position');
    });

    it('deeply nested JSON is 400 MALFORMED_BODY, not a 500 (a 4 KB body used to overflow the stack)', async () => {
      const deep = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
      for (const depth of [65, 2000, 100_000]) {
        const res = await t
          .http()
          .post('/api/v1/test/typed')
          .set('Content-Type', 'application/json')
          .send(`{"done": true, "title": ${deep(depth)}}`);
        expectError(res, 400, 'MALFORMED_BODY');
      }
      // 64 levels (the body object and 63 arrays) reach validation as usual.
      const limit = await t
        .http()
        .post('/api/v1/test/typed')
        .set('Content-Type', 'application/json')
        .send(`{"done": true, "title": ${deep(63)}}`);
      expectError(limit, 400, 'VALIDATION_FAILED');
      expect(limit.body.error.details).toEqual([{ field: 'title', message: 'title must be a string' }]);
      // Brackets in strings are just text.
      const title = '[{"\\"'.repeat(500);
      const res = await t.http().post('/api/v1/test/typed').send({ done: false, title }).expect(201);
      expect(res.body.data.title).toBe(title);
    });

    it('a JSON body in a non-Unicode charset (latin1) is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const res = await t
        .http()
        .post('/api/v1/test/typed')
        .set('Content-Type', 'application/json; charset=latin1')
        .send('{"done": true, "title": "x"}');
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('a JSON body over 1 MiB is 413 PAYLOAD_TOO_LARGE', async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: 'password-123', name: 'x'.repeat(1024 * 1024) });
      const res = await t.http().post('/api/v1/auth/register').set('Content-Type', 'application/json').send(body);
      expectError(res, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('a JSON body just under 1 MiB is parsed (and then validated)', async () => {
      const body = JSON.stringify({ email: uniqueEmail(), password: 'password-123', name: 'x'.repeat(1000 * 1000) });
      const res = await t.http().post('/api/v1/auth/register').set('Content-Type', 'application/json').send(body);
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.error.details).toEqual([{ field: 'name', message: expect.stringContaining('name') }]);
    });

    it.each([
      ['text/plain', 'email=a@example.com'],
      ['application/xml', '<user><email>a@example.com</email></user>'],
      ['application/x-www-form-urlencoded', 'email=a%40example.com&password=password-123&name=Ann'],
    ])('a %s body on a JSON route is 415 UNSUPPORTED_MEDIA_TYPE', async (type, body) => {
      const res = await t.http().post('/api/v1/auth/register').set('Content-Type', type).send(body);
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    it('unknown properties are rejected and named (400 VALIDATION_FAILED)', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email: uniqueEmail(), password: 'password-123', name: 'Ann', role: 'admin', isAdmin: true });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.error.message).toBe('Request validation failed');
      expect(res.body.error.details).toEqual(
        expect.arrayContaining([
          { field: 'role', message: 'property role should not exist' },
          { field: 'isAdmin', message: 'property isAdmin should not exist' },
        ]),
      );
      expect(res.body.error.details).toHaveLength(2);
    });

    it('123 is not a string', async () => {
      const res = await t
        .http()
        .post('/api/v1/auth/register')
        .send({ email: uniqueEmail(), password: 'password-123', name: 123 });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.error.details).toContainEqual({ field: 'name', message: 'name must be a string' });
    });

    it('types JSON strictly: "true" is not a boolean, 123 is not a string', async () => {
      const res = await t.http().post('/api/v1/test/typed').send({ done: 'true', title: 123, extra: 1 });
      expectError(res, 400, 'VALIDATION_FAILED');
      expect(res.body.error.details).toEqual(
        expect.arrayContaining([
          { field: 'done', message: 'done must be a boolean value' },
          { field: 'title', message: 'title must be a string' },
          { field: 'extra', message: 'property extra should not exist' },
        ]),
      );
      expect(res.body.error.details).toHaveLength(3);

      const ok = await t.http().post('/api/v1/test/typed').send({ done: true, title: 'Write tests' }).expect(201);
      expect(ok.body.data).toEqual({ done: true, title: 'Write tests' });
    });
  });

  describe('500 INTERNAL', () => {
    it('is exactly the error envelope: no message, stack, SQL or path of the original error', async () => {
      const res = await t.http().get('/api/v1/test/boom');
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toBe(JSON_UTF8);
      expect(res.body).toEqual({
        error: {
          status: 500,
          code: 'INTERNAL',
          message: 'Internal server error',
          requestId: res.headers['x-request-id'],
        },
      });
      expectNoLeak(res, 'secret', 'app.js');
    });

    it('hides an unrecognised database error the same way', async () => {
      const res = await t.http().get('/api/v1/test/bad-sql');
      expect(res.status).toBe(500);
      expect(res.body).toEqual({
        error: {
          status: 500,
          code: 'INTERNAL',
          message: 'Internal server error',
          requestId: res.headers['x-request-id'],
        },
      });
      expectNoLeak(res, 'no_such_table_xyz', 'secret_column', 'relation', 'does not exist', '42P01');
    });
  });

  describe('database errors', () => {
    it('a unique violation is 409 CONFLICT without the constraint or driver text', async () => {
      const res = await t.http().post('/api/v1/test/duplicate');
      expectError(res, 409, 'CONFLICT');
      expectNoLeak(res, 'users_email_key', 'duplicate key', '23505');
    });
  });

  describe('security headers', () => {
    it.each([
      ['a success', '/api/v1/test/ok', 200],
      ['an error', '/nope', 404],
      ['Swagger UI', '/docs', 200],
      ['liveness', '/health/live', 200],
    ])('helmet headers on %s, no X-Powered-By', async (_label, path, status) => {
      const res = await t.http().get(path).expect(status);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['content-security-policy']).toContain("object-src 'none'");
      expect(res.headers['x-powered-by']).toBeUndefined();
    });
  });
});

describe('platform: request logs', () => {
  let t: TestApp;
  const eventually = async (find: () => Record<string, unknown> | undefined) => {
    for (let i = 0; i < 50 && !find(); i++) await new Promise((r) => setTimeout(r, 10));
    return find();
  };
  const lineFor = (requestId: string) =>
    eventually(() => t.logs.find((l) => (l.req as { id?: string } | undefined)?.id === requestId));

  beforeAll(async () => {
    t = await createTestApp({ captureLogs: true, imports: [PlatformTestModule] });
  });
  afterAll(() => t.close());

  it('writes one line per request with the id, the user, the route template and the status', async () => {
    const user = await registerUser(t);
    const res = await t.http().get(`/api/v1/users/${user.id}`).set(bearer(user.accessToken)).expect(200);
    const line = await lineFor(res.headers['x-request-id']);
    expect(line).toMatchObject({
      level: 30,
      req: { method: 'GET', url: `/api/v1/users/${user.id}` },
      userId: user.id,
      route: '/api/v1/users/:id',
      res: { statusCode: 200 },
      msg: 'request completed',
    });
    expect(
      t.logs.filter((l) => (l.req as { id?: string } | undefined)?.id === res.headers['x-request-id']),
    ).toHaveLength(1);
  });

  it('logs routes outside Nest (an unknown path) and never a credential', async () => {
    const res = await t.http().get('/nope').set('Authorization', 'Bearer not-a-secret-to-log').expect(404);
    expect(await lineFor(res.headers['x-request-id'])).toMatchObject({ level: 40, res: { statusCode: 404 } });
    const login = await t.http().post('/api/v1/auth/login').send({ email: uniqueEmail(), password: 'never-logged-1' });
    expect(login.status).toBe(401);
    await lineFor(login.headers['x-request-id']);
    expect(JSON.stringify(t.logs)).not.toMatch(/not-a-secret-to-log|never-logged-1/);
  });

  it('logs an unhandled error with its stack and request id, which the response does not show', async () => {
    const res = await t.http().get('/api/v1/test/boom').expect(500);
    const requestId = res.headers['x-request-id'];
    expect(await lineFor(requestId)).toMatchObject({ level: 50, res: { statusCode: 500 }, msg: 'request errored' });
    const error = t.logs.find((l) => l.msg === 'Unhandled error' && l.requestId === requestId);
    expect(error).toMatchObject({ level: 50, context: 'AllExceptionsFilter', err: { message: LEAKY_MESSAGE } });
    expect((error!.err as { stack: string }).stack).toContain('PlatformTestController');
  });
});

describe('platform: statement timeout', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { DB_STATEMENT_TIMEOUT_MS: '200' }, imports: [PlatformTestModule] });
  });
  afterAll(() => t.close());

  it('a statement cancelled by statement_timeout (57014) is 503 UNAVAILABLE with Retry-After', async () => {
    const started = Date.now();
    const res = await t.http().get('/api/v1/test/sleep');
    expect(Date.now() - started).toBeLessThan(1500); // cancelled, not slept through
    expectError(res, 503, 'UNAVAILABLE');
    expect(res.headers['retry-after']).toBe('5');
    expectNoLeak(res, 'pg_sleep', 'statement timeout', 'canceling', '57014');
  });

  it('the pool keeps working after a cancelled statement', async () => {
    await t.http().get('/api/v1/test/sleep').expect(503);
    const ready = await t.http().get('/health/ready').expect(200);
    expect(ready.body.info.database.status).toBe('up');
  });
});

describe('platform: global rate limit', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ env: { RATE_LIMIT_PER_MINUTE: '3' }, imports: [PlatformTestModule] });
  });
  afterAll(() => t.close());

  it('the 4th request in a minute, whichever routes it went to, is 429 RATE_LIMITED with Retry-After', async () => {
    // The limit is per client, not per route: three different routes use it up.
    const first = await t.http().get('/api/v1/test/ok').expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    const second = await t.http().post('/api/v1/test/typed').send({ done: true, title: 'x' }).expect(201);
    expect(second.headers['x-ratelimit-remaining']).toBe('1');
    const third = await t.http().get('/api/v1/auth/me').expect(401);
    expect(third.headers['x-ratelimit-remaining']).toBe('0');

    const res = await t.http().get('/api/v1/test/ok');
    expectError(res, 429, 'RATE_LIMITED');
    const retryAfter = res.headers['retry-after'];
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);

    // Still limited, on any route.
    expectError(await t.http().get('/api/v1/test/ok'), 429, 'RATE_LIMITED');
    expectError(await t.http().post('/api/v1/auth/register').send({}), 429, 'RATE_LIMITED');
  });

  it('does not limit /health/live', async () => {
    for (let i = 0; i < 10; i++) await t.http().get('/health/live').expect(200);
  });
});

describe('platform: CORS with CORS_ORIGINS', () => {
  let t: TestApp;
  const allowed = 'https://app.example.com';

  beforeAll(async () => {
    t = await createTestApp({ env: { CORS_ORIGINS: allowed } });
  });
  afterAll(() => t.close());

  const preflight = (origin: string) =>
    t
      .http()
      .options('/api/v1/auth/register')
      .set('Origin', origin)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type,authorization,x-request-id');

  it('allows a preflight from a listed origin', async () => {
    const res = await preflight(allowed);
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe(allowed);
    expect(res.headers['access-control-allow-methods']).toContain('POST');
    expect(res.headers['access-control-allow-headers']).toMatch(/content-type/i);
    expect(res.headers['access-control-max-age']).toBe('600');
  });

  it('does not allow a preflight from another origin', async () => {
    const res = await preflight('https://evil.example.com');
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a listed origin with the allowed origin and the exposed headers', async () => {
    const res = await t.http().get('/health/live').set('Origin', allowed).expect(200);
    expect(res.headers['access-control-allow-origin']).toBe(allowed);
    const exposed = res.headers['access-control-expose-headers'].split(',');
    expect(exposed).toEqual(expect.arrayContaining(['X-Request-Id', 'ETag', 'Location', 'Retry-After']));

    const other = await t.http().get('/health/live').set('Origin', 'https://evil.example.com').expect(200);
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('platform: CORS in production without CORS_ORIGINS', () => {
  let t: TestApp;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    t = await createTestApp({
      databaseUrl: database.url,
      env: productionEnv(database.url),
    });
  });
  afterAll(async () => {
    await t?.close();
    await database?.drop();
  });

  it('runs in production mode', async () => {
    expect(t.config.isProduction).toBe(true);
    expect(t.config.env.CORS_ORIGINS).toBeUndefined();
    await t.http().get('/health/ready').expect(200);
  });

  it('sends no Access-Control-Allow-Origin, to preflights or to requests', async () => {
    const pre = await t
      .http()
      .options('/api/v1/auth/register')
      .set('Origin', 'https://app.example.com')
      .set('Access-Control-Request-Method', 'POST');
    expect(pre.headers['access-control-allow-origin']).toBeUndefined();
    expect(pre.headers['access-control-allow-methods']).toBeUndefined();

    const res = await t.http().get('/health/live').set('Origin', 'https://app.example.com').expect(200);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------

interface OpenApiOperation {
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }>; headers?: object }>;
}
interface OpenApiDocument {
  openapi: string;
  servers?: { url: string }[];
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: {
    schemas: Record<string, { required?: string[]; properties?: Record<string, { $ref?: string }> }>;
    securitySchemes: Record<string, { type: string; flows?: { password?: { tokenUrl: string } } }>;
  };
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

/** `[]` and `[{}]` both mean "no credentials needed". */
const isAnonymous = (security: Record<string, string[]>[] | undefined): boolean =>
  security !== undefined && (security.length === 0 || security.some((req) => Object.keys(req).length === 0));

/** Routes that answer outside the envelope on purpose (RFC 6749 token endpoint). */
/** Operations whose success bodies are not enveloped: OAuth2 (RFC 6749 JSON) and file bytes. */
const RAW_OPERATIONS = new Set([
  'post /api/v1/auth/token',
  'get /api/v1/attachments/{attachmentId}/content',
  'get /api/v1/users/{id}/avatar',
]);

describe('platform: Swagger UI and the OpenAPI document', () => {
  let t: TestApp;
  let doc: OpenApiDocument;
  let operations: { key: string; path: string; op: OpenApiOperation }[];

  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.http().get('/docs/openapi.json').expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    doc = res.body as OpenApiDocument;
    operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => HTTP_METHODS.includes(method))
        .map(([method, op]) => ({ key: `${method} ${path}`, path, op })),
    );
  });
  afterAll(() => t.close());

  it('GET /docs is the Swagger UI page, and its assets are served', async () => {
    const res = await t.http().get('/docs').expect(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.text).toContain('<title>Tasklane API</title>');
    expect(res.text).toContain('swagger-ui');
    for (const asset of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-init.js']) {
      expect(res.text).toContain(`./docs/${asset}`);
    }
    await t
      .http()
      .get('/docs/swagger-ui.css')
      .expect(200)
      .expect('Content-Type', /text\/css/);
    await t
      .http()
      .get('/docs/swagger-ui-bundle.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    const init = await t.http().get('/docs/swagger-ui-init.js').expect(200);
    expect(init.text).toContain('SwaggerUIBundle');
    expect(init.text).toContain('"openapi": "3.');
  });

  it('is an OpenAPI 3 document of the versioned API', () => {
    expect(doc.openapi).toMatch(/^3\./);
    expect(operations.length).toBeGreaterThan(5);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/auth/register', '/api/v1/auth/me']));
    for (const path of Object.keys(doc.paths)) expect(path).toMatch(/^\/api\/v1\//);
  });

  it('has no server with an absolute URL', () => {
    for (const server of doc.servers ?? []) expect(server.url).not.toMatch(/^[a-z][a-z0-9+.-]*:/i);
  });

  it('states security on every operation: none for public ones, oauth2 or bearer otherwise', () => {
    for (const { key, op } of operations) {
      expect({ key, security: op.security }).toEqual({ key, security: expect.any(Array) });
    }
    const byKey = new Map(operations.map((o) => [o.key, o.op]));
    expect(isAnonymous(byKey.get('post /api/v1/auth/register')!.security)).toBe(true);
    expect(isAnonymous(byKey.get('post /api/v1/auth/login')!.security)).toBe(true);
    expect(byKey.get('get /api/v1/auth/me')!.security).toEqual([{ oauth2: [] }, { bearer: [] }]);
    expect(byKey.get('get /api/v1/users')!.security).toEqual([{ oauth2: [] }, { bearer: [] }]);
  });

  it('documents 429 and 500 on every operation, and 401 on every protected one', () => {
    for (const { key, op } of operations) {
      const statuses = Object.keys(op.responses);
      expect({ key, statuses }).toEqual({ key, statuses: expect.arrayContaining(['429', '500']) });
      if (!isAnonymous(op.security)) {
        expect({ key, statuses }).toEqual({ key, statuses: expect.arrayContaining(['401']) });
      }
      const schema = op.responses['500'].content?.['application/json']?.schema;
      expect({ key, schema }).toEqual({ key, schema: { $ref: '#/components/schemas/ErrorEnvelope' } });
    }
  });

  it('has an oauth2 password flow at /api/v1/auth/token and a bearer scheme', () => {
    const { oauth2, bearer: bearerScheme } = doc.components.securitySchemes;
    expect(oauth2.type).toBe('oauth2');
    expect(oauth2.flows?.password?.tokenUrl).toBe('/api/v1/auth/token');
    expect(bearerScheme).toMatchObject({ type: 'http', scheme: 'bearer' });
  });

  it('describes success bodies with named envelope schemas in which data is required', () => {
    const envelopeOf = (op: OpenApiOperation, status: string): string => {
      const ref = op.responses[status]?.content?.['application/json']?.schema?.$ref ?? '';
      return ref.replace('#/components/schemas/', '');
    };
    const byKey = new Map(operations.map((o) => [o.key, o.op]));
    expect(envelopeOf(byKey.get('get /api/v1/auth/me')!, '200')).toBe('UserResponseEnvelope');
    expect(envelopeOf(byKey.get('post /api/v1/auth/register')!, '201')).toBe('AuthTokensResponseEnvelope');
    expect(envelopeOf(byKey.get('get /api/v1/users')!, '200')).toBe('UserResponseListEnvelope');

    let checked = 0;
    for (const { key, op } of operations) {
      if (RAW_OPERATIONS.has(key)) continue;
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^2\d\d$/.test(status) || !response.content) continue;
        const name = envelopeOf(op, status);
        expect({ key, status, name }).toEqual({ key, status, name: expect.stringMatching(/Envelope$/) });
        const schema = doc.components.schemas[name];
        expect({ name, required: schema.required }).toEqual({
          name,
          required: expect.arrayContaining(['data', 'meta']),
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(5);

    const user = doc.components.schemas.UserResponseEnvelope;
    expect(user.properties?.data.$ref).toBe('#/components/schemas/UserResponse');
    const list = doc.components.schemas.UserResponseListEnvelope;
    expect(list.properties?.meta.$ref).toBe('#/components/schemas/ListMeta');
  });

  it("documents the webhook delivery: the WebhookEvent schema, and the subscription's callback with the signature headers", () => {
    const event = doc.components.schemas.WebhookEvent;
    expect(event).toBeDefined();
    expect([...(event.required ?? [])].sort()).toEqual(['actor', 'createdAt', 'data', 'id', 'orgId', 'type']);
    expect(Object.keys(event.properties ?? {}).sort()).toEqual(['actor', 'createdAt', 'data', 'id', 'orgId', 'type']);
    expect(event.properties?.actor.$ref).toBe('#/components/schemas/WebhookEventActor');
    expect([...(doc.components.schemas.WebhookEventActor?.required ?? [])].sort()).toEqual(['id', 'type']);

    interface Callback {
      parameters?: { name: string; in: string; required?: boolean }[];
      requestBody?: { required?: boolean; content?: Record<string, { schema?: { $ref?: string } }> };
      responses?: Record<string, unknown>;
    }
    const subscribe = doc.paths['/api/v1/orgs/{orgId}/webhooks']?.post as
      (OpenApiOperation & { callbacks?: Record<string, Record<string, Record<string, Callback>>> }) | undefined;
    expect(subscribe).toBeDefined();
    const callbacks = Object.values(subscribe!.callbacks ?? {});
    expect(callbacks).toHaveLength(1);
    // Sent to the URL the subscription names.
    expect(Object.keys(callbacks[0])).toEqual(['{$request.body#/url}']);
    const delivery = callbacks[0]['{$request.body#/url}'].post;
    expect(delivery).toBeDefined();
    const headers = (delivery.parameters ?? []).filter((p) => p.in === 'header');
    expect(headers.map((p) => [p.name, p.required]).sort()).toEqual([
      ['webhook-id', true],
      ['webhook-signature', true],
      ['webhook-timestamp', true],
    ]);
    expect(delivery.requestBody?.required).toBe(true);
    expect(delivery.requestBody?.content?.['application/json']?.schema?.$ref).toBe('#/components/schemas/WebhookEvent');
    expect(Object.keys(delivery.responses ?? {})).toEqual(expect.arrayContaining(['2XX']));
  });
});
