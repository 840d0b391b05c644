import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Environment, parseEnvironment } from './env.schema';

/**
 * The validated configuration the application runs with. It is the environment with the two
 * values that may have been provided at boot rather than by the environment: the database URL
 * (the embedded PostgreSQL's when DATABASE_URL is unset) and the JWT secret (generated and
 * kept under .data/ outside production). Inject it by class.
 */
export class AppConfig {
  readonly env!: Environment;
  readonly databaseUrl!: string;
  readonly jwtSecret!: string;

  constructor(values: { env: Environment; databaseUrl: string; jwtSecret: string }) {
    Object.assign(this, values);
  }

  /**
   * The connection for what a transaction pooler cannot carry: LISTEN, the migrations and their
   * session advisory lock. DATABASE_DIRECT_URL, else the same server as every other query.
   */
  get databaseDirectUrl(): string {
    return this.env.DATABASE_DIRECT_URL ?? this.databaseUrl;
  }

  /** Behind a transaction pooler: no named statements and no session state on DATABASE_URL. */
  get behindTransactionPooler(): boolean {
    return this.env.DATABASE_POOLER === 'transaction';
  }

  /** Where links in emails point: APP_URL, else this server on localhost. */
  get appUrl(): string {
    return this.env.APP_URL ?? `http://localhost:${this.env.PORT}`;
  }

  /** The sender of every mail: MAIL_FROM, else no-reply at APP_URL's host. */
  get mailFrom(): string {
    return this.env.MAIL_FROM ?? `Tasklane <no-reply@${new URL(this.appUrl).hostname}>`;
  }

  get isProduction(): boolean {
    return this.env.NODE_ENV === 'production';
  }
}

/**
 * Folder for local state: embedded PostgreSQL data, the development JWT secret. Read when asked
 * for, after loadEnvironment, so that TASKLANE_DATA_DIR may come from `.env` too.
 */
export function dataDir(): string {
  return resolve(process.env.TASKLANE_DATA_DIR ?? '.data');
}

/** Reads `.env` when present (variables already set win), then validates. */
export function loadEnvironment(): Environment {
  try {
    process.loadEnvFile('.env');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return parseEnvironment(process.env);
}

/** Outside production a missing JWT_SECRET is generated once and kept under .data/. */
export function developmentJwtSecret(file = resolve(dataDir(), 'jwt-secret')): string {
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = randomBytes(48).toString('base64url');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, secret + '\n', { mode: 0o600 });
  return secret;
}
