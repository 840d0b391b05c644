import { resolve } from 'node:path';
import { AppConfig, dataDir, developmentJwtSecret, loadEnvironment } from './config/app-config';
import { EnvError } from './config/env.schema';
import { describeError } from './logging/logger';
import {
  EmbeddedDatabase,
  EmbeddedPostgresMissingError,
  ensureDatabase,
  startEmbeddedPostgres,
} from './database/embedded-postgres';

export interface Runtime {
  config: AppConfig;
  /** Set when this process started (or reuses) the embedded PostgreSQL. */
  embedded?: EmbeddedDatabase;
}

/**
 * What a process (the server or the CLI) runs with: the validated environment, and when
 * DATABASE_URL is unset the embedded PostgreSQL under .data/ (reused if already running).
 * The embedded-postgres package is a development dependency, loaded only then (never in
 * production, where DATABASE_URL is required); when it is not installed, an
 * EmbeddedPostgresMissingError says so.
 */
export async function prepareRuntime(log: (line: string) => void = console.log): Promise<Runtime> {
  const env = loadEnvironment();
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    const dir = resolve(dataDir(), 'postgres');
    log(`DATABASE_URL is not set: using the embedded PostgreSQL (data in ${dir})`);
    embedded = await startEmbeddedPostgres(dir, { persistent: true });
    databaseUrl = await ensureDatabase(embedded.adminUrl, 'tasklane');
  }
  const jwtSecret = env.JWT_SECRET ?? developmentJwtSecret();
  return { config: new AppConfig({ env, databaseUrl, jwtSecret }), embedded };
}

/**
 * What an entry point (main.ts, cli.ts) prints for an error that stopped it: the message alone
 * for a problem of the operator's to fix (a bad variable, named; no embedded PostgreSQL
 * installed), anything else as describeError writes it (its class, code, message and stack, and
 * its cause): a database error's SQL, parameter values (an argon2 hash, an email) and driver
 * detail are not printed, as they are not logged.
 */
export function startupFailure(error: unknown): string {
  return error instanceof EnvError || error instanceof EmbeddedPostgresMissingError
    ? error.message
    : describeError(error);
}
