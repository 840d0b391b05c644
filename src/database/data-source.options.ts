import { DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { MIGRATIONS } from './migrations';

export interface DatabaseSettings {
  databaseUrl: string;
  poolMax: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
  /**
   * DATABASE_URL goes through a transaction-mode pooler (PgBouncer), which refuses startup
   * parameters other than a few it knows: the timeouts are then set per transaction (UnitOfWork)
   * and on the role, not at connect.
   */
  behindTransactionPooler?: boolean;
}

/** The one description of how Tasklane talks to PostgreSQL: app, CLI and tests share it. */
export function dataSourceOptions(settings: DatabaseSettings): DataSourceOptions {
  return {
    type: 'postgres',
    url: settings.databaseUrl,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    // The migrations own the schema, extensions included: TypeORM installs none at connect, and
    // a uuid primary key it generates SQL for defaults to gen_random_uuid() (built into
    // PostgreSQL 13+, as the migrations use) rather than uuid-ossp's uuid_generate_v4().
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    logging: false,
    applicationName: 'tasklane',
    extra: {
      max: settings.poolMax,
      connectionTimeoutMillis: settings.connectionTimeoutMs,
      // Server-side guards: no statement or idle transaction holds a connection for long.
      ...(settings.behindTransactionPooler ? {} : sessionTimeouts(settings.statementTimeoutMs)),
      idleTimeoutMillis: 30_000,
    },
  };
}

/** statement_timeout, and twice that for a transaction left idle: as startup parameters, or per transaction. */
export function sessionTimeouts(statementTimeoutMs: number): {
  statement_timeout: number;
  idle_in_transaction_session_timeout: number;
} {
  return { statement_timeout: statementTimeoutMs, idle_in_transaction_session_timeout: statementTimeoutMs * 2 };
}

/**
 * A single connection straight to the primary (DATABASE_DIRECT_URL), for the migrations and
 * their session advisory lock — what a transaction pooler cannot carry. No statement timeout: a
 * migration may take long.
 */
export function directDataSourceOptions(config: AppConfig): DataSourceOptions {
  return dataSourceOptions({
    databaseUrl: config.databaseDirectUrl,
    poolMax: 1,
    connectionTimeoutMs: config.env.DB_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: 0,
  });
}
