import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { startPgBouncer } from './pgbouncer';

/**
 * One PostgreSQL for the whole run: the one in DATABASE_URL, or an embedded server in a
 * temporary folder. Each test file creates its own database on it (see test-app.ts).
 * With TEST_DATABASE_POOLER=transaction, a PgBouncer in transaction mode is started in front of
 * it, and every test app talks to its database through that (DATABASE_POOLER=transaction), with
 * the direct URL for what the pooler cannot carry.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_ADMIN_URL = process.env.DATABASE_URL;
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'tasklane-test-'));
    const server = await startEmbeddedPostgres(join(dir, 'pg'), { persistent: false });
    process.env.TEST_DATABASE_ADMIN_URL = server.adminUrl;
    (globalThis as { __tasklanePg?: typeof server }).__tasklanePg = server;
  }
  if (process.env.TEST_DATABASE_POOLER === 'transaction') {
    const bouncer = await startPgBouncer(process.env.TEST_DATABASE_ADMIN_URL, { poolSize: 40 });
    process.env.TEST_PGBOUNCER_PORT = String(bouncer.port);
    (globalThis as { __tasklanePgBouncer?: typeof bouncer }).__tasklanePgBouncer = bouncer;
  }
}
