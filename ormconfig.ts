import { DataSource } from 'typeorm';
import { loadEnvironment } from './src/config/app-config';
import { dataSourceOptions } from './src/database/data-source.options';

/**
 * The DataSource for the TypeORM CLI (`npm run migration:generate|run|revert`), built from the
 * same options as the application. It needs DATABASE_URL; with the embedded PostgreSQL use
 * `npm run cli -- migrate` instead, or point DATABASE_URL at it.
 */
const env = loadEnvironment();
if (!env.DATABASE_URL) {
  throw new Error(
    'Set DATABASE_URL for the TypeORM CLI (or use `npm run cli -- migrate` with the embedded PostgreSQL)',
  );
}

export default new DataSource({
  ...dataSourceOptions({
    databaseUrl: env.DATABASE_URL,
    poolMax: 1,
    connectionTimeoutMs: env.DB_CONNECTION_TIMEOUT_MS,
    statementTimeoutMs: 0,
  }),
  entities: [__dirname + '/src/**/*.entity.js'],
});
