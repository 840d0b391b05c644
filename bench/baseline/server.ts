/**
 * The baseline Tasklane is benchmarked against (bench/run.ts): a bare Express 5 + `pg` server,
 * written by hand, that answers the three benchmarked routes as Tasklane does and does nothing
 * else:
 *
 * - GET /api/v1/tasks/:taskId: the task and the caller's membership in one statement;
 * - GET /api/v1/projects/:projectId/tasks (filters status and priority, limit, cursor): the
 *   membership, then a keyset page, newest first, with signed cursors in Tasklane's format;
 * - POST /api/v1/projects/:projectId/tasks (title, description, status, priority, labels): the
 *   membership, then in one transaction the project's counter advanced (with the role re-read
 *   under the row lock), the task and its audit event inserted.
 *
 * Around them, what every request pays for in Tasklane too: the request id (a well-formed
 * X-Request-Id is reused), one pino line per request with the same fields, helmet's headers with
 * the same options, the per-client rate limit (RATE_LIMIT_PER_MINUTE in a fixed window, the
 * X-RateLimit-* headers), an HS256 access token verified with the same claims (issuer, audience,
 * expiry, `typ`, sub/sid/role), the envelopes, ETag and Location, the same pool settings
 * (DB_POOL_MAX and the connection, statement and idle-in-transaction timeouts).
 *
 * Why it is fair: bench/run.ts checks, before measuring, that it answers the benchmarked
 * requests and a few refused ones exactly as Tasklane does (status, every response header but
 * Date, and the body, byte for byte) and that it sends PostgreSQL the same statements for each
 * (through a wire-protocol tap: the same SQL, the same prepared-statement names, the same number
 * of round trips). It is written to be as cheap as that allows: one literal per response object,
 * named statements for the hot lookups, no per-request allocation it can avoid. What it leaves
 * out is what the framework and Tasklane's cross-cutting features add (DI, guards, pipes,
 * class-validator/transformer, interceptors, rxjs, metrics, the input hardening, Idempotency-Key,
 * session revocation, read-replica routing): the benchmark measures that cost. Filters and fields
 * the benchmark does not use (assigneeId, dueDate, label, q, sort...) are refused with a 400
 * rather than half-implemented.
 */
import express, { NextFunction, Request, Response } from 'express';
import { createHash, createHmac, createSecretKey, hkdfSync, randomUUID, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import helmet from 'helmet';
import { Pool, PoolClient } from 'pg';
import pino from 'pino';

// --- Configuration: the same variables and defaults as src/config/env.schema.ts
function int(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a positive integer`);
  return Number(raw);
}
const { DATABASE_URL, JWT_SECRET } = process.env;
if (!DATABASE_URL) throw new Error('DATABASE_URL is required');
if (!JWT_SECRET || JWT_SECRET.length < 32) throw new Error('JWT_SECRET must be at least 32 characters');
const PORT = int('PORT', 3001);
const STATEMENT_TIMEOUT_MS = int('DB_STATEMENT_TIMEOUT_MS', 10_000);
const RATE_LIMIT = int('RATE_LIMIT_PER_MINUTE', 600);

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const pool = new Pool({
  connectionString: DATABASE_URL,
  max: int('DB_POOL_MAX', 10),
  connectionTimeoutMillis: int('DB_CONNECTION_TIMEOUT_MS', 5000),
  statement_timeout: STATEMENT_TIMEOUT_MS,
  idle_in_transaction_session_timeout: STATEMENT_TIMEOUT_MS * 2,
  idleTimeoutMillis: 30_000,
  application_name: 'tasklane',
});
pool.on('error', (err) => logger.error({ err }, 'idle database client failed'));

const JWT_KEY = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));
// Tasklane's access-token lifetime (JWT_ACCESS_TTL, its default) and the clock skew it allows on iat.
const ACCESS_TTL_SECONDS = 15 * 60;
const CLOCK_SKEW_SECONDS = 30;
const CURSOR_KEY = Buffer.from(hkdfSync('sha256', JWT_SECRET, '', 'tasklane:cursor', 32));

// --- Errors, in the contract's envelope
type Detail = { field: string; message: string };
class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Detail[],
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
const invalid = (details: Detail[]) => new HttpError(400, 'VALIDATION_FAILED', 'Request validation failed', details);
const notFound = (what: string) => new HttpError(404, 'NOT_FOUND', `${what} not found`);
const unauthenticated = (message: string) =>
  new HttpError(401, 'UNAUTHENTICATED', message, undefined, { 'WWW-Authenticate': 'Bearer realm="tasklane"' });
const invalidCursor = () => new HttpError(400, 'INVALID_CURSOR', 'The cursor is invalid for this list');

const BODY_ERRORS: Record<string, [number, string, string]> = {
  'entity.parse.failed': [400, 'MALFORMED_BODY', 'The request body could not be parsed'],
  'entity.verify.failed': [400, 'MALFORMED_BODY', 'The request body could not be parsed'],
  'request.aborted': [400, 'MALFORMED_BODY', 'The request body was not received in full'],
  'request.size.invalid': [400, 'MALFORMED_BODY', 'The request body length does not match Content-Length'],
  'entity.too.large': [413, 'PAYLOAD_TOO_LARGE', 'The request body is too large'],
  'encoding.unsupported': [415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body encoding is not supported'],
  'charset.unsupported': [415, 'UNSUPPORTED_MEDIA_TYPE', 'The request body charset is not supported'],
};
const UNAVAILABLE_CODE =
  /^(08|57P01$|57P03$|53300$|57014$|ECONNREFUSED$|ECONNRESET$|ETIMEDOUT$|ENOTFOUND$|EHOSTUNREACH$|EPIPE$)/;
const UNAVAILABLE_MESSAGE = /timeout exceeded when trying to connect|Connection terminated|connection timeout/i;

/** Body-parser errors and what src/database/database-errors.ts maps; anything else is a 500. */
function describe(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  const { type, code, message } = (error ?? {}) as { type?: string; code?: string; message?: string };
  if (type && BODY_ERRORS[type]) return new HttpError(...BODY_ERRORS[type]);
  if (code === '22021')
    return new HttpError(400, 'VALIDATION_FAILED', 'The request contains a character that cannot be stored (NUL)');
  if (code === '23505') return new HttpError(409, 'CONFLICT', 'The resource conflicts with an existing one');
  if (code === '23503')
    return new HttpError(409, 'CONFLICT', 'The resource is referenced by, or refers to, a missing resource');
  if ((code && UNAVAILABLE_CODE.test(code)) || UNAVAILABLE_MESSAGE.test(message ?? '')) {
    return new HttpError(503, 'UNAVAILABLE', 'The database is unavailable; retry shortly', undefined, {
      'Retry-After': '5',
    });
  }
  return new HttpError(500, 'INTERNAL', 'Internal server error');
}

const requestId = (res: Response): string => res.locals.requestId as string;

function sendError(res: Response, error: HttpError): void {
  if (res.headersSent) return void res.destroy();
  for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
  const { status, code, message, details } = error;
  res
    .status(status)
    .json({ error: { status, code, message, ...(details ? { details } : {}), requestId: requestId(res) } });
}

// --- Authentication: what AuthGuard + AccessTokenService (jsonwebtoken) check
const BEARER = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i;

function parseSegment(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    throw unauthenticated('Invalid access token');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw unauthenticated('Invalid access token');
  return value as Record<string, unknown>;
}

/** The caller's user id, from a verified access token; 401 otherwise. */
function authenticate(req: Request, res: Response): string {
  const header = req.headers.authorization;
  if (!header) throw unauthenticated('Missing bearer token');
  const token = BEARER.exec(header)?.[1];
  if (!token) throw unauthenticated('Malformed Authorization header; expected "Bearer <token>"');
  const [head, body, signature] = token.split('.');
  if (parseSegment(head).alg !== 'HS256' || !signature) throw unauthenticated('Invalid access token');
  // Compared as base64url text, as jws does, so a non-canonical encoding of the signature fails too.
  const expected = Buffer.from(createHmac('sha256', JWT_KEY).update(`${head}.${body}`).digest('base64url'));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given))
    throw unauthenticated('Invalid access token');
  const claims = parseSegment(body);
  const now = Math.floor(Date.now() / 1000);
  const { nbf, exp, iat, aud } = claims;
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) throw unauthenticated('Invalid access token');
  if (exp !== undefined && typeof exp !== 'number') throw unauthenticated('Invalid access token');
  if (typeof exp === 'number' && now >= exp) throw unauthenticated('Access token expired');
  // As Tasklane: a numeric iat and exp, a lifetime within the access TTL, not issued in the future.
  if (
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    !Number.isFinite(iat) ||
    iat > now + CLOCK_SKEW_SECONDS ||
    exp <= iat ||
    exp - iat > ACCESS_TTL_SECONDS
  ) {
    throw unauthenticated('Invalid access token');
  }
  if (
    !(Array.isArray(aud) ? aud.includes('tasklane-api') : aud === 'tasklane-api') ||
    claims.iss !== 'tasklane' ||
    claims.typ !== 'access' ||
    typeof claims.sub !== 'string' ||
    typeof claims.sid !== 'string' ||
    (claims.role !== 'user' && claims.role !== 'admin')
  ) {
    throw unauthenticated('Invalid access token');
  }
  res.locals.userId = claims.sub;
  return claims.sub;
}

// --- Validation
const UUID =
  /^(?:[0-9A-F]{8}-[0-9A-F]{4}-[1-8][0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}|00000000-0000-0000-0000-000000000000|FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF)$/i;
const STATUSES = ['todo', 'in_progress', 'done', 'canceled'];
const PRIORITIES = ['low', 'medium', 'high', 'urgent'];
const oneOf = (field: string, values: string[]) => `${field} must be one of the following values: ${values.join(', ')}`;

/** A UUID path parameter (ParseUUIDPipe's "all" pattern), handed on lower-case as UuidParam does. */
function uuidParam(req: Request, name: string): string {
  const value = req.params[name] as string;
  if (!UUID.test(value)) throw invalid([{ field: name, message: `${name} must be a UUID` }]);
  return value.toLowerCase();
}

function unknownProperties(input: Record<string, unknown>, allowed: string[], details: Detail[]): void {
  for (const key of Object.keys(input)) {
    if (!allowed.includes(key)) details.push({ field: key, message: `property ${key} should not exist` });
  }
}

/** `?status=a&status=b` and `?status=a,b` alike; each value one of `values`, at most 4. */
function listFilter(raw: unknown, field: string, values: string[], details: Detail[]): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = (Array.isArray(raw) ? raw : [raw]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v]));
  if (list.length > 4) details.push({ field, message: `${field} must contain no more than 4 elements` });
  if (!list.every((v) => values.includes(v))) details.push({ field, message: `each value in ${oneOf(field, values)}` });
  return list;
}

interface ListQuery {
  limit: number;
  cursor?: string;
  status?: string[];
  priority?: string[];
}
function parseListQuery(query: Record<string, unknown>): ListQuery {
  const details: Detail[] = [];
  unknownProperties(query, ['limit', 'cursor', 'status', 'priority'], details);
  // In class-validator's order: the subclass's filters, then ListQuery's limit (last decorator first) and cursor.
  const status = listFilter(query.status, 'status', STATUSES, details);
  const priority = listFilter(query.priority, 'priority', PRIORITIES, details);
  const raw = query.limit;
  const limit = raw === undefined ? 20 : typeof raw === 'string' && /^-?\d{1,15}$/.test(raw) ? Number(raw) : raw;
  if (!(typeof limit === 'number' && limit <= 100)) {
    details.push({ field: 'limit', message: 'limit must not be greater than 100' });
  }
  if (!(typeof limit === 'number' && limit >= 1))
    details.push({ field: 'limit', message: 'limit must not be less than 1' });
  if (!Number.isInteger(limit)) details.push({ field: 'limit', message: 'limit must be an integer number' });
  if (query.cursor !== undefined && typeof query.cursor !== 'string') {
    details.push({ field: 'cursor', message: 'cursor must be a string' });
  }
  if (details.length > 0) throw invalid(details);
  return { limit: limit as number, cursor: query.cursor as string | undefined, status, priority };
}

interface CreateTask {
  title: string;
  description?: string;
  status?: string;
  priority?: string;
  labels?: string[];
}
/** CreateTaskDto's rules for these fields, with class-validator's messages; unknown properties are refused. */
function parseCreateTask(body: unknown): CreateTask {
  if (body !== undefined && (body === null || typeof body !== 'object' || Array.isArray(body))) {
    throw invalid([{ field: 'body', message: 'the request body must be a JSON object' }]);
  }
  const input = (body ?? {}) as Record<string, unknown>;
  const details: Detail[] = [];
  const fail = (field: string, message: string) => details.push({ field, message });
  unknownProperties(input, ['title', 'description', 'status', 'priority', 'labels'], details);
  const title = typeof input.title === 'string' ? input.title.trim() : input.title;
  if (typeof title !== 'string') fail('title', 'title must be a string');
  if (title === '' || title === null || title === undefined) fail('title', 'title should not be empty');
  if (!(typeof title === 'string' && title.length <= 200)) {
    fail('title', 'title must be shorter than or equal to 200 characters');
  }
  const { description, status, priority } = input;
  if (description !== undefined) {
    if (typeof description !== 'string') fail('description', 'description must be a string');
    if (!(typeof description === 'string' && description.length <= 10000)) {
      fail('description', 'description must be shorter than or equal to 10000 characters');
    }
  }
  if (status !== undefined && !STATUSES.includes(status as string)) fail('status', oneOf('status', STATUSES));
  if (priority !== undefined && !PRIORITIES.includes(priority as string))
    fail('priority', oneOf('priority', PRIORITIES));
  let labels = input.labels;
  if (labels !== undefined) {
    if (!Array.isArray(labels)) {
      fail('labels', 'labels must be an array');
      fail('labels', 'labels must contain no more than 20 elements');
      fail('labels', "All labels's elements must be unique");
    } else {
      labels = labels.map((l: unknown) => (typeof l === 'string' ? l.trim() : l));
      const list = labels as unknown[];
      if (list.length > 20) fail('labels', 'labels must contain no more than 20 elements');
      if (new Set(list).size !== list.length) fail('labels', "All labels's elements must be unique");
      if (!list.every((l) => typeof l === 'string')) fail('labels', 'each value in labels must be a string');
      if (list.some((l) => l === '' || l === null)) fail('labels', 'each value in labels should not be empty');
      if (!list.every((l) => typeof l === 'string' && l.length <= 50)) {
        fail('labels', 'each value in labels must be shorter than or equal to 50 characters');
      }
    }
  }
  if (details.length > 0) throw invalid(details);
  return { title, description, status, priority, labels } as CreateTask;
}

// --- The per-client rate limit: a fixed window of a minute per address, and once over the limit
// a block until the window's length has passed (what Tasklane's in-process storage does).
interface Window {
  hits: number;
  endsAt: number;
  blockedUntil: number;
}
const WINDOW_MS = 60_000;
const windows = new Map<string, Window>();
setInterval(() => {
  const now = Date.now();
  for (const [client, w] of windows) if (w.endsAt <= now && w.blockedUntil <= now) windows.delete(client);
}, WINDOW_MS).unref();

function rateLimit(req: Request, res: Response): void {
  const now = Date.now();
  const client = String(req.ip);
  let w = windows.get(client);
  if (!w) {
    w = { hits: 0, endsAt: now + WINDOW_MS, blockedUntil: 0 };
    windows.set(client, w);
  } else if (w.endsAt <= now) {
    w.hits = 0;
    w.endsAt = now + WINDOW_MS;
  }
  const hits = ++w.hits;
  if (w.blockedUntil <= now && hits > RATE_LIMIT) w.blockedUntil = now + WINDOW_MS;
  if (w.blockedUntil > now) {
    const retryAfter = String(Math.max(1, Math.ceil((w.blockedUntil - now) / 1000)));
    res.setHeader('Retry-After', retryAfter);
    throw new HttpError(429, 'RATE_LIMITED', 'Too many requests; retry later', undefined, {
      'Retry-After': retryAfter,
    });
  }
  res.setHeader('X-RateLimit-Limit', RATE_LIMIT);
  res.setHeader('X-RateLimit-Remaining', Math.max(0, RATE_LIMIT - hits));
  res.setHeader('X-RateLimit-Reset', Math.max(0, Math.ceil((w.endsAt - now) / 1000)));
}

// --- Tasks: the columns Tasklane reads, and its task response
const COLUMNS = `t.id, t.project_id AS "projectId", t.org_id AS "orgId", t.project_key AS "projectKey", t.number,
  t.title, t.description, t.status, t.priority, t.assignee_id AS "assigneeId", to_char(t.due_date, 'YYYY-MM-DD') AS "dueDate",
  t.labels, t.created_by AS "createdBy", t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;
const PROJECT_COLUMNS = `p.id, p.org_id AS "orgId", p.key, p.name, p.description, p.archived,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.version`;
// The caller's membership comes from org_principals (members and the org's API keys), as in Tasklane.
const PROJECT_FOR_MEMBER = {
  name: 'project_for_member',
  text: `SELECT ${PROJECT_COLUMNS}, m.role FROM projects p JOIN org_principals m ON m.org_id = p.org_id AND m.principal_id = $2 WHERE p.id = $1`,
};
const TASK_FOR_MEMBER = {
  name: 'task_for_member',
  text: `SELECT ${COLUMNS}, m.role FROM tasks t JOIN org_principals m ON m.org_id = t.org_id AND m.principal_id = $2 WHERE t.id = $1`,
};
const NEXT_NUMBER = `UPDATE projects p SET task_seq = p.task_seq + 1 FROM org_principals m
  WHERE p.id = $1 AND m.org_id = p.org_id AND m.principal_id = $2
  RETURNING p.org_id AS "orgId", p.key, p.archived, m.role, p.task_seq AS number`;
const INSERT_TASK = `INSERT INTO tasks AS t (project_id, org_id, project_key, number, title, description, status, priority,
  assignee_id, due_date, labels, created_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`;
// Tasklane's audit insert also says whether a webhook wants the event (none does here).
const INSERT_AUDIT = `INSERT INTO audit_events (org_id, actor_id, action, entity_type, entity_id, changes, request_id, actor_type)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
  RETURNING id, created_at AS "createdAt",
  EXISTS (SELECT 1 FROM webhooks w WHERE w.org_id = audit_events.org_id AND w.active AND (audit_events.action = ANY (w.events) OR '*' = ANY (w.events))) AS "wanted"`;
const AUDITED = ['title', 'description', 'status', 'priority', 'assigneeId', 'dueDate', 'labels'] as const;

/** A row of COLUMNS, camelCase already (the SQL aliases do it); what this file computes with is typed. */
type TaskRow = Record<string, unknown> & { projectKey: string; number: number; createdAt: Date; updatedAt: Date };

/**
 * A task as the API shows it: id and the versioning fields first, `key` ("BEN-42") after the
 * number, and not what only the server uses (orgId, projectKey and, by id, the caller's role).
 * Built as a literal rather than spread from the row: a literal of one shape serializes fastest.
 */
function taskBody(row: TaskRow) {
  const { id, version, projectId, number, title, description, status, priority } = row;
  const { assigneeId, dueDate, labels, createdBy } = row;
  const createdAt = row.createdAt.toISOString();
  const updatedAt = row.updatedAt.toISOString();
  const key = `${row.projectKey}-${number}`;
  return {
    id,
    createdAt,
    updatedAt,
    version,
    projectId,
    number,
    key,
    title,
    description,
    status,
    priority,
    assigneeId,
    dueDate,
    labels,
    createdBy,
  };
}

// --- Cursors, in Tasklane's format so that either server reads the other's: the base64url JSON
// {s: a digest of the list's scope, p: [createdAt, id]}, a dot, and 16 bytes of its HMAC-SHA256.
const MAX_CURSOR_LENGTH = 2048;

function issueCursor(scope: string, position: unknown): string {
  const digest = createHash('sha256').update(scope).digest('base64url').slice(0, 16);
  const payload = Buffer.from(JSON.stringify({ s: digest, p: position })).toString('base64url');
  const tag = createHmac('sha256', CURSOR_KEY).update(payload).digest().subarray(0, 16);
  return `${payload}.${tag.toString('base64url')}`;
}

const parseJson = (text: string): { p?: unknown } | undefined => {
  try {
    return JSON.parse(text) as { p?: unknown };
  } catch {
    return undefined;
  }
};

/**
 * The position a cursor holds, if the cursor is exactly the one this list would issue for that
 * position (so its signature and its scope are right); a 400 INVALID_CURSOR otherwise.
 */
function readCursor(cursor: string, scope: string): [string, string] {
  if (cursor.length <= MAX_CURSOR_LENGTH) {
    const [payload] = cursor.split('.', 1);
    const position = parseJson(Buffer.from(payload, 'base64url').toString('utf8'))?.p;
    if (Array.isArray(position)) {
      const issued = Buffer.from(issueCursor(scope, position));
      const given = Buffer.from(cursor);
      if (issued.length === given.length && timingSafeEqual(issued, given)) return position as [string, string];
    }
  }
  throw invalidCursor();
}

/**
 * The scope a cursor is issued for: the list and its filters, by name in alphabetical order,
 * those not given left out (Tasklane's naming, so that the cursors match).
 */
function listScope(projectId: string, q: ListQuery): string {
  const values = (v?: string[]) => v && [...new Set(v)].sort();
  const filters: [string, unknown][] = [
    ['priority', values(q.priority)],
    ['projectId', projectId],
    ['sort', '-createdAt'],
    ['status', values(q.status)],
  ];
  return `tasks:${JSON.stringify(filters.filter(([, v]) => v !== undefined))}`;
}

// --- The application
const app = express();
app.disable('x-powered-by');
app.set('etag', false); // as Tasklane: ETags come from versions, not from hashing bodies

app.use((req: Request, res: Response, next: NextFunction) => {
  const started = performance.now();
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && /^[A-Za-z0-9._-]{1,128}$/.test(incoming) ? incoming : randomUUID();
  res.locals.requestId = id;
  res.setHeader('X-Request-Id', id);
  res.on('finish', () => {
    const status = res.statusCode;
    logger[status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info'](
      {
        req: { id, method: req.method, url: req.originalUrl, remoteAddress: req.socket.remoteAddress },
        userId: res.locals.userId as string | undefined,
        route: req.route ? (req.route as { path: string }).path : undefined,
        res: { statusCode: status },
        responseTime: Math.round(performance.now() - started),
      },
      'request completed',
    );
  });
  next();
});
// helmet's defaults with Tasklane's one change (Swagger UI's images), on every response.
app.use(
  helmet({
    contentSecurityPolicy: {
      directives: { 'img-src': ["'self'", 'data:', 'validator.swagger.io'], 'upgrade-insecure-requests': null },
    },
  }),
);
// (Tasklane's CORS middleware adds nothing in production without CORS_ORIGINS, as here.)
app.use(express.json({ limit: '1mb' }));

app.get('/hello', (_req: Request, res: Response) => {
  res.type('text/plain').send('hello');
});

// Tasklane's liveness answer (terminus's shape, no checks), from a bare route.
app.get('/health/live', (_req: Request, res: Response) => {
  res.setHeader('Cache-Control', 'no-store');
  res.json({ status: 'ok', info: {}, error: {}, details: {} });
});

app.get('/api/v1/tasks/:taskId', async (req: Request, res: Response) => {
  rateLimit(req, res);
  const userId = authenticate(req, res);
  const taskId = uuidParam(req, 'taskId');
  const { rows } = await pool.query<TaskRow>({ ...TASK_FOR_MEMBER, values: [taskId, userId] });
  if (rows.length === 0) throw notFound('Task');
  res.setHeader('ETag', `"${rows[0].version}"`);
  res.json({ data: taskBody(rows[0]), meta: { requestId: requestId(res) } });
});

app.get('/api/v1/projects/:projectId/tasks', async (req: Request, res: Response) => {
  rateLimit(req, res);
  const userId = authenticate(req, res);
  const projectId = uuidParam(req, 'projectId');
  const query = parseListQuery(req.query as Record<string, unknown>);
  const { rowCount } = await pool.query({ ...PROJECT_FOR_MEMBER, values: [projectId, userId] });
  if (!rowCount) throw notFound('Project');

  const scope = listScope(projectId, query);
  const params: unknown[] = [projectId];
  const where = ['t.project_id = $1'];
  const anyOf = (column: string, values?: unknown[]) => {
    if (!values) return;
    where.push(`${column} IN (${values.map((v) => `$${params.push(v)}`).join(', ')})`);
  };
  anyOf('t.status', query.status);
  // As Tasklane: on the generated rank (1 low … 4 urgent), which its priority sort's index holds.
  anyOf(
    't.priority_rank',
    query.priority?.map((p) => PRIORITIES.indexOf(p) + 1),
  );
  if (query.cursor !== undefined) {
    const [value, id] = readCursor(query.cursor, scope);
    where.push(`(t.created_at, t.id) < ($${params.push(value)}, $${params.push(id)})`);
  }
  const { rows } = await pool.query<TaskRow>(
    `SELECT ${COLUMNS} FROM tasks t WHERE ${where.join(' AND ')}
      ORDER BY t.created_at DESC, t.id DESC LIMIT ${query.limit + 1}`,
    params,
  );
  const items = rows.length > query.limit ? rows.slice(0, query.limit) : rows;
  const last = items[items.length - 1];
  const nextCursor = rows.length > query.limit ? issueCursor(scope, [last.createdAt.toISOString(), last.id]) : null;
  res.json({
    data: items.map(taskBody),
    meta: { requestId: requestId(res), page: { limit: query.limit, nextCursor } },
  });
});

app.post('/api/v1/projects/:projectId/tasks', async (req: Request, res: Response) => {
  rateLimit(req, res);
  const userId = authenticate(req, res);
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  if (hasBody && !req.is('application/json')) {
    throw new HttpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Type must be application/json');
  }
  const projectId = uuidParam(req, 'projectId');
  // The access check first (Tasklane's runs in a guard, before the body is validated), then the
  // change in a transaction that takes the number and re-reads the role under the row lock.
  const member = (await pool.query<{ role: string }>({ ...PROJECT_FOR_MEMBER, values: [projectId, userId] })).rows[0];
  if (!member) throw notFound('Project');
  const refuseViewer = (role: string) => {
    if (role === 'viewer')
      throw new HttpError(403, 'FORBIDDEN', `Your role (${role}) does not allow you to create tasks`);
  };
  refuseViewer(member.role);
  const input = parseCreateTask(req.body);
  const task = await transaction(async (db) => {
    const project = (await db.query(NEXT_NUMBER, [projectId, userId])).rows[0];
    if (!project) throw notFound('Project');
    refuseViewer(project.role);
    if (project.archived) throw new HttpError(409, 'CONFLICT', 'The project is archived and takes no new tasks');
    const { title, description = '', status = 'todo', priority = 'medium', labels = [] } = input;
    const values = [projectId, project.orgId, project.key, project.number, title, description, status, priority];
    const created = (await db.query<TaskRow>(INSERT_TASK, [...values, null, null, labels, userId])).rows[0];
    // diffChanges({}, task, AUDITED): [null, value] for every field that is not null.
    const changes = Object.fromEntries(AUDITED.filter((f) => created[f] !== null).map((f) => [f, [null, created[f]]]));
    const audit = [project.orgId, userId, 'task.created', 'task', created.id, changes, requestId(res), 'user'];
    await db.query(INSERT_AUDIT, audit);
    return created;
  });
  res.status(201).location(`/api/v1/tasks/${task.id}`).setHeader('ETag', `"${task.version}"`);
  res.json({ data: taskBody(task), meta: { requestId: requestId(res) } });
});

async function transaction<T>(work: (db: PoolClient) => Promise<T>): Promise<T> {
  const db = await pool.connect();
  try {
    await db.query('START TRANSACTION');
    const result = await work(db);
    await db.query('COMMIT');
    db.release();
    return result;
  } catch (error) {
    // A client whose ROLLBACK fails is discarded, not returned to the pool.
    const rollback = await db.query('ROLLBACK').then(
      () => undefined,
      (e: Error) => e,
    );
    db.release(rollback);
    throw error;
  }
}

app.use((req: Request, res: Response) => {
  sendError(res, new HttpError(404, 'NOT_FOUND', `No route for ${req.method} ${req.originalUrl.split('?')[0]}`));
});
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  const described = describe(error);
  if (described.status >= 500) logger.error({ err: error, requestId: requestId(res) }, described.message);
  sendError(res, described);
});

const server = app.listen(PORT, '127.0.0.1', (error?: Error) => {
  if (error) throw error;
  console.log(`baseline listening on ${PORT}`);
});
process.once('SIGTERM', () => {
  // Stop accepting, let requests in flight finish, then close the pool.
  server.close(() => void pool.end().then(() => process.exit(0)));
  server.closeIdleConnections();
});
