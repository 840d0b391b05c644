import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabase, ensureDatabase, startEmbeddedPostgres } from '../src/database/embedded-postgres';

/** Databases made for one run of a tool, and the means to drop them all. */
export interface ScratchDatabases {
  /** Where they are, for messages: `embedded PostgreSQL` or `the server of DATABASE_URL`. */
  readonly where: string;
  /** A temporary folder of the run (the embedded server's data is in it too), removed by release. */
  readonly folder: string;
  /** Creates the database `name` (unique per run: callers add the pid and time) and returns its URL. */
  create(name: string): Promise<string>;
  /** Drops every database created (a failure is reported, not thrown), stops the embedded server, removes the folder. */
  release(): Promise<void>;
}

/**
 * Fresh databases for a tool (migration:check, sdk:generate, the benchmarks): on DATABASE_URL's
 * server, else on an embedded PostgreSQL started in a temporary folder, as the tests do.
 */
export async function scratchDatabases(label: string): Promise<ScratchDatabases> {
  const folder = mkdtempSync(join(tmpdir(), `tasklane-${label}-`));
  let embedded: EmbeddedDatabase | undefined;
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    try {
      embedded = await startEmbeddedPostgres(join(folder, 'pg'), { persistent: false });
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      throw error;
    }
    adminUrl = embedded.adminUrl;
  }
  const created: string[] = [];
  return {
    where: embedded ? 'embedded PostgreSQL' : 'the server of DATABASE_URL',
    folder,
    async create(name) {
      created.push(name);
      return ensureDatabase(adminUrl, name);
    },
    async release() {
      for (const name of created) {
        await dropDatabase(adminUrl, name).catch((error: unknown) => console.error(`Could not drop ${name}:`, error));
      }
      await embedded?.stop();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}
