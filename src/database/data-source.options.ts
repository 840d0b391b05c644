import { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from './migrations';

export interface DatabaseSettings {
  databaseUrl: string;
  poolMax: number;
  connectionTimeoutMs: number;
  statementTimeoutMs: number;
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
      statement_timeout: settings.statementTimeoutMs,
      idle_in_transaction_session_timeout: settings.statementTimeoutMs * 2,
      idleTimeoutMillis: 30_000,
    },
  };
}
