import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/**
 * One PostgreSQL for the whole run: the one in DATABASE_URL, or an embedded server in a
 * temporary folder. Each test file creates its own database on it (see test-app.ts).
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    process.env.TEST_DATABASE_ADMIN_URL = process.env.DATABASE_URL;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-test-'));
  const server = await startEmbeddedPostgres(join(dir, 'pg'), { persistent: false });
  process.env.TEST_DATABASE_ADMIN_URL = server.adminUrl;
  (globalThis as { __tasklanePg?: typeof server }).__tasklanePg = server;
}
