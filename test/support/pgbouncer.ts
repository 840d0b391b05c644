import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findBinary,
  sleep,
  sqlRefusal,
  freePort,
  killGroup,
  reaper,
  track,
  unprivilegedIds,
  untrack,
} from './child-processes';

// A stock PgBouncer (Debian's 1.18 on these machines) in transaction mode, in front of any
// PostgreSQL, for tests that show the app works behind the standard pooler. Nothing is relaxed
// for the app's sake: no `ignore_startup_parameters` beyond what every pg client sends, so a
// client that sends statement_timeout as a startup parameter is refused here as in production.

export interface PgBouncer {
  port: number;
  /** `databaseUrl` (same database, user and password) through the bouncer. */
  url(databaseUrl: string): string;
  stop(): Promise<void>;
}

/** The pgbouncer binary, or undefined when it is not installed. */
export function pgBouncerBinary(): string | undefined {
  return findBinary(['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer']);
}

/** A libpq connect-string value, quoted. */
const quoted = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/**
 * Starts PgBouncer on 127.0.0.1 and a free port, in `pool_mode = transaction`, with a `*`
 * fallback entry pointing at `upstreamUrl`'s host and port (so databases created later are
 * reachable), logging in upstream as `upstreamUrl`'s user and password (`auth_type = any`: the
 * client's credentials are not checked, the bouncer's own are used), and waits until it answers.
 */
export async function startPgBouncer(upstreamUrl: string, options: { poolSize?: number } = {}): Promise<PgBouncer> {
  const binary = pgBouncerBinary();
  if (!binary) throw new Error('pgbouncer is not installed (apt-get install pgbouncer)');
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  const password = decodeURIComponent(upstream.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'tasklane-pgbouncer-'));
  reaper(`dir ${dir}`);
  const ids = unprivilegedIds();
  if (ids) chownSync(dir, ids.uid, ids.gid);

  const target = [
    `host=${upstream.hostname}`,
    `port=${upstream.port || '5432'}`,
    `user=${quoted(user)}`,
    ...(password ? [`password=${quoted(password)}`] : []),
  ].join(' ');
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = ${target}`,
      '',
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      // Unix sockets off: nothing left behind in /tmp, no clash between bouncers.
      'unix_socket_dir =',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      'pool_mode = transaction',
      'auth_type = any',
      'max_client_conn = 2000',
      `default_pool_size = ${options.poolSize ?? 20}`,
      'reserve_pool_size = 0',
      // Some drivers (JDBC, psycopg) send it; node-postgres does not. Harmless and stock advice.
      'ignore_startup_parameters = extra_float_digits',
      'server_login_retry = 1',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
  );
  if (ids) chownSync(join(dir, 'pgbouncer.ini'), ids.uid, ids.gid);

  let output = '';
  const child = spawn(binary, [join(dir, 'pgbouncer.ini')], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(ids ?? {}),
  });
  track(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');

  const url = (databaseUrl: string): string => {
    const through = new URL(databaseUrl);
    through.hostname = '127.0.0.1';
    through.port = String(port);
    return through.toString();
  };

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGTERM: immediate shutdown in 1.18 (SIGINT waits for every client to leave).
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    untrack(child);
    rmSync(dir, { recursive: true, force: true });
    reaper(`-dir ${dir}`);
  };

  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const log = existsSync(join(dir, 'pgbouncer.log')) ? readFileSync(join(dir, 'pgbouncer.log'), 'utf8') : '';
      await stop();
      throw new Error(`pgbouncer exited at start:\n${output}\n${log}`);
    }
    const refusal = await sqlRefusal(url(upstreamUrl));
    if (refusal === undefined) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`pgbouncer did not accept connections within 15 s: ${String(refusal)}\n${output}`);
    }
    await sleep(100);
  }
  return { port, url, stop };
}
