/**
 * The environment schema: every variable Tasklane reads, parsed and validated in one place.
 * A bad value throws an EnvError naming the variable, and the process stops at boot.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';

export type NodeEnv = 'development' | 'test' | 'production';

export interface Environment {
  NODE_ENV: NodeEnv;
  PORT: number;
  HOST: string;
  DATABASE_URL?: string;
  /** A direct connection for what a transaction pooler cannot carry (LISTEN, session advisory locks, migrations). */
  DATABASE_DIRECT_URL?: string;
  /** `transaction`: DATABASE_URL goes through a transaction-mode pooler (PgBouncer). */
  DATABASE_POOLER: 'none' | 'transaction';
  /** Read replicas: reads that may lag go there (contract §21). */
  DATABASE_REPLICA_URLS: string[];
  DB_POOL_MAX: number;
  DB_CONNECTION_TIMEOUT_MS: number;
  DB_STATEMENT_TIMEOUT_MS: number;
  JWT_SECRET?: string;
  JWT_ACCESS_TTL: number;
  JWT_REFRESH_TTL: number;
  CORS_ORIGINS?: string[];
  LOG_LEVEL: string;
  /** `auto`: pretty-printed on a developer's terminal (stdout a TTY, not production), JSON lines elsewhere. */
  LOG_FORMAT: 'auto' | 'json' | 'pretty';
  ADMIN_EMAIL?: string;
  ADMIN_PASSWORD?: string;
  METRICS_TOKEN?: string;
  REDIS_URL?: string;
  UPLOAD_DIR: string;
  STORAGE_DRIVER: 'local' | 's3';
  S3_ENDPOINT?: string;
  S3_REGION: string;
  S3_BUCKET?: string;
  S3_ACCESS_KEY_ID?: string;
  S3_SECRET_ACCESS_KEY?: string;
  /** Path-style addressing (`endpoint/bucket/key`): MinIO, Ceph RGW, s3rver. */
  S3_FORCE_PATH_STYLE: boolean;
  UPLOAD_MAX_BYTES: number;
  RATE_LIMIT_PER_MINUTE: number;
  LOGIN_RATE_LIMIT_PER_IP: number;
  LOGIN_RATE_LIMIT_PER_ACCOUNT: number;
  MIGRATIONS_RUN: boolean;
  SEED_DEMO: boolean;
  /** Express's `trust proxy`: a hop count, or the addresses and subnets of the trusted proxies. */
  TRUST_PROXY: number | string[];
  SHUTDOWN_TIMEOUT_MS: number;
  PASSWORD_HASH_CONCURRENCY: number;
  /** Outgoing mail server; unset: mails are written to the log (refused in production). */
  SMTP_URL?: string;
  MAIL_FROM?: string;
  /** The public base URL that links in emails point at. */
  APP_URL?: string;
  MAIL_RETRY_DELAY_SECONDS: number;
  /** Invitations one org may send in an hour. */
  INVITATIONS_PER_HOUR: number;
  /** Work background jobs in this process (false: an instance that only serves requests). */
  JOB_WORKERS: boolean;
  JOB_POLL_INTERVAL_MS: number;
  /** Webhook URLs may be `http` and point at private or loopback addresses (default: not in production). */
  WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean;
  /** The first wait before a failed webhook delivery is retried; the later waits are multiples of it. */
  WEBHOOK_RETRY_DELAY_SECONDS: number;
}

/** The largest UPLOAD_MAX_BYTES accepted: 1 GiB. */
export const MAX_UPLOAD_MAX_BYTES = 1024 * 1024 * 1024;

export class EnvError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid environment variable ${variable}: ${problem}`);
    this.name = 'EnvError';
  }
}

type Raw = Record<string, string | undefined>;

function read(raw: Raw, name: string): string | undefined {
  const value = raw[name]?.trim();
  return value === '' ? undefined : value;
}

function oneOf<T extends string>(raw: Raw, name: string, allowed: readonly T[], fallback: T): T {
  const value = read(raw, name) ?? fallback;
  if (!allowed.includes(value as T)) {
    throw new EnvError(name, `must be one of ${allowed.join(', ')} (got "${value}")`);
  }
  return value as T;
}

function integer(raw: Raw, name: string, fallback: number, min: number, max: number): number {
  const value = read(raw, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new EnvError(name, `must be a whole number (got "${value}")`);
  const n = Number(value);
  if (n < min || n > max) throw new EnvError(name, `must be between ${min} and ${max} (got ${n})`);
  return n;
}

const DURATION_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** A duration in seconds: `900`, `900s`, `15m`, `12h`, `30d`. */
function duration(raw: Raw, name: string, fallbackSeconds: number, minSeconds: number): number {
  const value = read(raw, name);
  if (value === undefined) return fallbackSeconds;
  const match = /^(\d+)([smhd]?)$/.exec(value);
  if (!match) throw new EnvError(name, `must be a duration like 900, 15m, 12h or 30d (got "${value}")`);
  const seconds = Number(match[1]) * DURATION_UNITS[match[2] || 's'];
  if (seconds < minSeconds) throw new EnvError(name, `must be at least ${minSeconds}s`);
  return seconds;
}

function boolean(raw: Raw, name: string, fallback: boolean): boolean {
  const value = read(raw, name)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['true', '1', 'yes'].includes(value)) return true;
  if (['false', '0', 'no'].includes(value)) return false;
  throw new EnvError(name, `must be true or false (got "${value}")`);
}

function url(raw: Raw, name: string, protocols: string[]): string | undefined {
  const value = read(raw, name);
  if (value === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new EnvError(name, 'must be a URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new EnvError(name, `must use ${protocols.join(' or ')}`);
  }
  return value;
}

function urls(raw: Raw, name: string, protocols: string[]): string[] {
  const value = read(raw, name);
  if (value === undefined) return [];
  return value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => url({ [name]: entry }, name, protocols)!);
}

function origins(raw: Raw, name: string): string[] | undefined {
  const value = read(raw, name);
  if (value === undefined) return undefined;
  const list = value
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin === '*') continue;
    try {
      const parsed = new URL(origin);
      if (parsed.origin !== origin) throw new Error('not an origin');
    } catch {
      throw new EnvError(name, `"${origin}" is not an origin such as https://app.example.com`);
    }
  }
  return list;
}

/** Names proxy-addr (Express's `trust proxy`) gives to address ranges. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * TRUST_PROXY: how many proxies in front to trust for the client address (`0`, the default:
 * none; `1` behind one load balancer), or a comma list of their addresses and subnets
 * (`10.0.0.0/8, ::1`, or `loopback`, `linklocal`, `uniquelocal`). `true` is refused: it would
 * take the left-most X-Forwarded-For entry, which any client writes itself, and so let every
 * client choose the address that rate limits count. `false` still means 0.
 */
function trustedProxies(raw: Raw, name: string): number | string[] {
  const value = read(raw, name);
  if (value === undefined || value.toLowerCase() === 'false') return 0;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 10) throw new EnvError(name, `must be at most 10 proxy hops (got ${hops})`);
    return hops;
  }
  if (['true', 'yes', 'on', '*'].includes(value.toLowerCase())) {
    throw new EnvError(
      name,
      `"${value}" would trust whatever X-Forwarded-For a client sends; give the number of proxies in front (1 behind one load balancer) or their addresses`,
    );
  }
  const list = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of list) {
    if (PROXY_RANGE_NAMES.includes(entry)) continue;
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (
      !family ||
      extra !== undefined ||
      (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max))
    ) {
      throw new EnvError(
        name,
        `"${entry}" is not an IP address, a subnet such as 10.0.0.0/8, or ${PROXY_RANGE_NAMES.join(', ')}`,
      );
    }
  }
  return list;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Rejects secrets that are short, repetitive or well-known placeholders. */
export function secretWeakness(secret: string, minLength: number): string | undefined {
  if (secret.length < minLength) return `must be at least ${minLength} characters`;
  if (new Set(secret).size < 10) return 'is too repetitive (fewer than 10 distinct characters)';
  if (/change.?me|secret|password|example|tasklane/i.test(secret)) return 'looks like a placeholder';
  return undefined;
}

export function parseEnvironment(raw: Raw): Environment {
  const NODE_ENV = oneOf(raw, 'NODE_ENV', ['development', 'test', 'production'] as const, 'development');
  const production = NODE_ENV === 'production';

  const env: Environment = {
    NODE_ENV,
    PORT: integer(raw, 'PORT', 3000, 0, 65535),
    HOST: read(raw, 'HOST') ?? '0.0.0.0',
    DATABASE_URL: url(raw, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    DATABASE_DIRECT_URL: url(raw, 'DATABASE_DIRECT_URL', ['postgres:', 'postgresql:']),
    DATABASE_POOLER: oneOf(raw, 'DATABASE_POOLER', ['none', 'transaction'] as const, 'none'),
    DATABASE_REPLICA_URLS: urls(raw, 'DATABASE_REPLICA_URLS', ['postgres:', 'postgresql:']),
    DB_POOL_MAX: integer(raw, 'DB_POOL_MAX', 10, 1, 500),
    DB_CONNECTION_TIMEOUT_MS: integer(raw, 'DB_CONNECTION_TIMEOUT_MS', 5000, 100, 120_000),
    DB_STATEMENT_TIMEOUT_MS: integer(raw, 'DB_STATEMENT_TIMEOUT_MS', 10_000, 100, 600_000),
    JWT_SECRET: read(raw, 'JWT_SECRET'),
    JWT_ACCESS_TTL: duration(raw, 'JWT_ACCESS_TTL', 15 * 60, 10),
    JWT_REFRESH_TTL: duration(raw, 'JWT_REFRESH_TTL', 30 * 86400, 60),
    CORS_ORIGINS: origins(raw, 'CORS_ORIGINS'),
    LOG_LEVEL: oneOf(raw, 'LOG_LEVEL', ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),
    LOG_FORMAT: oneOf(raw, 'LOG_FORMAT', ['auto', 'json', 'pretty'] as const, 'auto'),
    ADMIN_EMAIL: read(raw, 'ADMIN_EMAIL')?.toLowerCase(),
    ADMIN_PASSWORD: read(raw, 'ADMIN_PASSWORD'),
    METRICS_TOKEN: read(raw, 'METRICS_TOKEN'),
    REDIS_URL: url(raw, 'REDIS_URL', ['redis:', 'rediss:']),
    UPLOAD_DIR: read(raw, 'UPLOAD_DIR') ?? '.data/uploads',
    STORAGE_DRIVER: oneOf(raw, 'STORAGE_DRIVER', ['local', 's3'] as const, 'local'),
    S3_ENDPOINT: url(raw, 'S3_ENDPOINT', ['http:', 'https:']),
    S3_REGION: read(raw, 'S3_REGION') ?? 'us-east-1',
    S3_BUCKET: read(raw, 'S3_BUCKET'),
    S3_ACCESS_KEY_ID: read(raw, 'S3_ACCESS_KEY_ID'),
    S3_SECRET_ACCESS_KEY: read(raw, 'S3_SECRET_ACCESS_KEY'),
    S3_FORCE_PATH_STYLE: boolean(raw, 'S3_FORCE_PATH_STYLE', false),
    UPLOAD_MAX_BYTES: integer(raw, 'UPLOAD_MAX_BYTES', 10 * 1024 * 1024, 1024, MAX_UPLOAD_MAX_BYTES),
    RATE_LIMIT_PER_MINUTE: integer(raw, 'RATE_LIMIT_PER_MINUTE', 600, 1, 1_000_000),
    LOGIN_RATE_LIMIT_PER_IP: integer(raw, 'LOGIN_RATE_LIMIT_PER_IP', 30, 1, 1_000_000),
    LOGIN_RATE_LIMIT_PER_ACCOUNT: integer(raw, 'LOGIN_RATE_LIMIT_PER_ACCOUNT', 10, 1, 1_000_000),
    MIGRATIONS_RUN: boolean(raw, 'MIGRATIONS_RUN', true),
    SEED_DEMO: boolean(raw, 'SEED_DEMO', false),
    TRUST_PROXY: trustedProxies(raw, 'TRUST_PROXY'),
    SHUTDOWN_TIMEOUT_MS: integer(raw, 'SHUTDOWN_TIMEOUT_MS', 8000, 0, 60_000),
    // Half the cores by default (at least one): sign-in storms leave the rest for other requests.
    PASSWORD_HASH_CONCURRENCY: integer(
      raw,
      'PASSWORD_HASH_CONCURRENCY',
      Math.max(1, Math.floor(availableParallelism() / 2)),
      1,
      256,
    ),
    SMTP_URL: url(raw, 'SMTP_URL', ['smtp:', 'smtps:']),
    MAIL_FROM: read(raw, 'MAIL_FROM'),
    APP_URL: url(raw, 'APP_URL', ['http:', 'https:'])?.replace(/\/+$/, ''),
    MAIL_RETRY_DELAY_SECONDS: integer(raw, 'MAIL_RETRY_DELAY_SECONDS', 10, 1, 3600),
    INVITATIONS_PER_HOUR: integer(raw, 'INVITATIONS_PER_HOUR', 100, 1, 100_000),
    JOB_WORKERS: boolean(raw, 'JOB_WORKERS', true),
    JOB_POLL_INTERVAL_MS: integer(raw, 'JOB_POLL_INTERVAL_MS', 2000, 500, 60_000),
    WEBHOOK_ALLOW_PRIVATE_TARGETS: boolean(raw, 'WEBHOOK_ALLOW_PRIVATE_TARGETS', !production),
    // The schedule is 3,805 times this (see webhook-retry.ts): at least 23 keeps retries going for
    // the 24 hours contract §19 promises; tests may wait a second.
    WEBHOOK_RETRY_DELAY_SECONDS: integer(raw, 'WEBHOOK_RETRY_DELAY_SECONDS', 30, NODE_ENV === 'test' ? 1 : 23, 300),
  };

  if (env.ADMIN_EMAIL !== undefined && !EMAIL.test(env.ADMIN_EMAIL)) {
    throw new EnvError('ADMIN_EMAIL', 'must be an email address');
  }
  if (env.ADMIN_EMAIL !== undefined && env.ADMIN_PASSWORD === undefined) {
    throw new EnvError('ADMIN_PASSWORD', 'is required when ADMIN_EMAIL is set');
  }
  if (env.ADMIN_PASSWORD !== undefined && (env.ADMIN_PASSWORD.length < 8 || env.ADMIN_PASSWORD.length > 128)) {
    throw new EnvError('ADMIN_PASSWORD', 'must be 8 to 128 characters');
  }
  if (env.APP_URL !== undefined && /[?#]/.test(env.APP_URL)) {
    throw new EnvError('APP_URL', 'must be a base URL without a query or fragment (links are built on it)');
  }
  if (env.MAIL_FROM !== undefined && !/^[^<>]*<[^\s@<>]+@[^\s@<>]+>$|^[^\s@<>]+@[^\s@<>]+$/.test(env.MAIL_FROM)) {
    throw new EnvError('MAIL_FROM', 'must be an address, `no-reply@example.com` or `Tasklane <no-reply@example.com>`');
  }
  if (
    env.DATABASE_POOLER === 'transaction' &&
    env.DATABASE_URL !== undefined &&
    env.DATABASE_DIRECT_URL === undefined
  ) {
    // LISTEN (revocations), the migration lock and the migrations themselves need a session of their own.
    throw new EnvError(
      'DATABASE_DIRECT_URL',
      'is required with DATABASE_POOLER=transaction (LISTEN, the migration lock and migrations need a direct connection)',
    );
  }
  if (env.DATABASE_REPLICA_URLS.length > 0 && env.DATABASE_URL === undefined) {
    throw new EnvError(
      'DATABASE_REPLICA_URLS',
      'needs DATABASE_URL (replicas of the embedded PostgreSQL are not supported)',
    );
  }
  if (env.STORAGE_DRIVER === 's3') {
    if (env.S3_BUCKET === undefined) throw new EnvError('S3_BUCKET', 'is required with STORAGE_DRIVER=s3');
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(env.S3_BUCKET)) {
      throw new EnvError('S3_BUCKET', 'must be a bucket name: 3 to 63 lowercase letters, digits, dots and hyphens');
    }
  }
  if ((env.S3_ACCESS_KEY_ID === undefined) !== (env.S3_SECRET_ACCESS_KEY === undefined)) {
    // Either both (a key pair) or neither (the SDK's default chain: instance role, AWS_* variables…).
    throw new EnvError(
      env.S3_ACCESS_KEY_ID === undefined ? 'S3_ACCESS_KEY_ID' : 'S3_SECRET_ACCESS_KEY',
      'must be set together with its pair (or leave both unset for the SDK default credentials)',
    );
  }
  if (env.JWT_SECRET !== undefined && env.JWT_SECRET.length < 32) {
    throw new EnvError('JWT_SECRET', 'must be at least 32 characters');
  }

  if (production) {
    if (env.DATABASE_URL === undefined) {
      throw new EnvError('DATABASE_URL', 'is required in production (the embedded PostgreSQL is for local use)');
    }
    if (env.SEED_DEMO)
      throw new EnvError('SEED_DEMO', 'is not allowed in production (it creates users with known passwords)');
    // Log collectors read JSON lines, and pino-pretty (a development dependency) is not installed there.
    if (env.LOG_FORMAT === 'pretty')
      throw new EnvError('LOG_FORMAT', 'pretty is not allowed in production (JSON lines)');
    if (env.JWT_SECRET === undefined) throw new EnvError('JWT_SECRET', 'is required in production');
    const jwtProblem = secretWeakness(env.JWT_SECRET, 32);
    if (jwtProblem) throw new EnvError('JWT_SECRET', jwtProblem);
    // Invitations and password reset always send mail: without a server they would be lost.
    if (env.SMTP_URL === undefined)
      throw new EnvError('SMTP_URL', 'is required in production (invitation and password-reset mails)');
    if (env.APP_URL === undefined) throw new EnvError('APP_URL', 'is required in production (the links in emails)');
    if (env.METRICS_TOKEN !== undefined) {
      const metricsProblem = secretWeakness(env.METRICS_TOKEN, 16);
      if (metricsProblem) throw new EnvError('METRICS_TOKEN', metricsProblem);
    }
    if (env.ADMIN_PASSWORD !== undefined) {
      const adminProblem = secretWeakness(env.ADMIN_PASSWORD, 12);
      if (adminProblem) throw new EnvError('ADMIN_PASSWORD', adminProblem);
    }
  }
  return env;
}
