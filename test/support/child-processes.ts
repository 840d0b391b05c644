import { ChildProcess, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { Client } from 'pg';

// What the test support modules that start servers of their own (PgBouncer, nginx, Redis,
// PostgreSQL, the cluster's instances) share: finding the program, a free loopback port, the
// unprivileged user to run it as, and killing its process group however the test run ends.

/** The first of `paths` that exists: a program installed from Debian's packages, or undefined. */
export function findBinary(paths: string[]): string | undefined {
  return paths.find((path) => existsSync(path));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** uid/gid of the `postgres` OS user when running as root (PostgreSQL and PgBouncer refuse to run as root). */
export function unprivilegedIds(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { uid, gid };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

// A harness may run a reaper that outlives this process and kills what it left behind
// (test/cluster/reaper.ts): it is told of each process group and folder.
export const REAPER = Symbol.for('tasklane.test.reaper');
export const reaper = (line: string): void =>
  (globalThis as unknown as Record<symbol, ((line: string) => void) | undefined>)[REAPER]?.(line);

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

/** A started (detached) process: killed with its group when this process exits, and told to the reaper. */
export function track(child: ChildProcess): void {
  running.add(child);
  reaper(`+${child.pid}`);
}

/** It has stopped. */
export function untrack(child: ChildProcess): void {
  running.delete(child);
  reaper(`-${child.pid}`);
}

/** Runs `work` on a connection of its own to `url`, closed afterwards. */
export async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Whether a PostgreSQL (or a PgBouncer) at `url` answers a query now: undefined, or why not. */
export async function sqlRefusal(url: string): Promise<unknown> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => undefined);
  }
}
