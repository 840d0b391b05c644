import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, reaper, sleep, sqlRefusal, track, unprivilegedIds, untrack, withClient } from './child-processes';

// A PostgreSQL primary and a streaming hot standby made from it with `pg_basebackup -R`, both
// fresh, on loopback and free ports, from the system's PostgreSQL binaries (Debian:
// /usr/lib/postgresql/<major>/bin). For tests of read replicas: replication lag is real, and
// pauseReplay() makes it as long as a test wants.

export interface PrimaryWithReplica {
  /** postgres://postgres@127.0.0.1:<port>/postgres of the primary (trust auth). */
  primaryUrl: string;
  /** The same on the standby (read only). */
  replicaUrl: string;
  /** Stops applying WAL on the standby (it keeps receiving it): its reads fall behind. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  stop(): Promise<void>;
}

const PROGRAMS = ['initdb', 'postgres', 'pg_basebackup'];

/** The bin folder of the newest PostgreSQL that has every program needed, if any. */
function binDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  for (const major of majors) {
    const bin = join(root, major, 'bin');
    if (PROGRAMS.every((program) => existsSync(join(bin, program)))) return bin;
  }
  return undefined;
}

/** True when a primary with a replica can be started here (binaries, and a `postgres` user when root). */
export function replicaToolsAvailable(): boolean {
  if (!binDir()) return false;
  try {
    unprivilegedIds();
    return true;
  } catch {
    return false;
  }
}

interface Postgres {
  child: ChildProcess;
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Runs `postgres -D dataDir` in the foreground (a child of this process) and waits until it answers. */
async function startPostgres(
  bin: string,
  dataDir: string,
  port: number,
  ids: { uid: number; gid: number } | undefined,
): Promise<Postgres> {
  let output = '';
  const child = spawn(join(bin, 'postgres'), ['-D', dataDir, '-c', `port=${port}`], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(ids ?? {}),
  });
  track(child);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      // SIGINT is pg_ctl stop -m fast: roll back sessions, shut down cleanly.
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    untrack(child);
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      untrack(child);
      throw new Error(`postgres (${dataDir}) exited at start:\n${output}`);
    }
    const refusal = await sqlRefusal(url);
    if (refusal === undefined) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`postgres (${dataDir}) did not accept connections within 30 s: ${String(refusal)}\n${output}`);
    }
    await sleep(100);
  }
  return { child, url, output: () => output, stop };
}

function run(program: string, args: string[], ids: { uid: number; gid: number } | undefined): void {
  const result = spawnSync(program, args, { encoding: 'utf8', timeout: 60_000, ...(ids ?? {}) });
  if (result.status !== 0) {
    throw new Error(
      `${program} ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`,
    );
  }
}

/**
 * A fresh primary (initdb, trust for 127.0.0.1 including replication, max_connections 300) and
 * a hot standby streaming from it through a replication slot, both listening on 127.0.0.1 only;
 * resolves once the standby has replayed a table created on the primary after it started.
 */
export async function startPrimaryWithReplica(): Promise<PrimaryWithReplica> {
  const bin = binDir();
  if (!bin) throw new Error('no PostgreSQL with initdb, postgres and pg_basebackup under /usr/lib/postgresql');
  const ids = unprivilegedIds();
  const base = mkdtempSync(join(tmpdir(), 'tasklane-replication-'));
  reaper(`dir ${base}`);
  if (ids) chownSync(base, ids.uid, ids.gid);
  const primaryDir = join(base, 'primary');
  const replicaDir = join(base, 'replica');
  const started: Postgres[] = [];
  const stop = async (): Promise<void> => {
    for (const server of started.reverse()) await server.stop().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
    reaper(`-dir ${base}`);
  };

  try {
    const [primaryPort, replicaPort] = [await freePort(), await freePort()];
    // initdb's pg_hba.conf with trust for local, 127.0.0.1/32 and ::1, replication included.
    run(
      join(bin, 'initdb'),
      ['-D', primaryDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '-N'],
      ids,
    );
    appendFileSync(
      join(primaryDir, 'postgresql.conf'),
      [
        '',
        '# tasklane test cluster',
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = '${base}'`,
        'max_connections = 300',
        'wal_level = replica',
        'max_wal_senders = 10',
        'max_replication_slots = 10',
        'hot_standby = on',
        // Throw-away data: no need to wait for the disk. (synchronous_commit stays on: off would
        // hold WAL back from the standby for up to 3 × wal_writer_delay, a lag no test wants.)
        'fsync = off',
        "log_min_messages = 'warning'",
        '',
      ].join('\n'),
    );
    const primary = await startPostgres(bin, primaryDir, primaryPort, ids);
    started.push(primary);

    // -R: standby.signal and primary_conninfo; -C -S: a slot, so the primary keeps the WAL the
    // standby has not received yet. The standby inherits postgresql.conf; its port is given on its
    // command line.
    run(
      join(bin, 'pg_basebackup'),
      [
        '-h',
        '127.0.0.1',
        '-p',
        String(primaryPort),
        '-U',
        'postgres',
        '-D',
        replicaDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
        '-C',
        '-S',
        'tasklane_replica',
      ],
      ids,
    );
    const replica = await startPostgres(bin, replicaDir, replicaPort, ids);
    started.push(replica);

    const inRecovery = await withClient(
      replica.url,
      async (c) => (await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r,
    );
    if (inRecovery !== true) throw new Error('the replica is not in recovery (not a standby)');

    // Replaying: a table created on the primary now shows up on the standby.
    const probe = `replica_probe_${process.pid}_${Date.now()}`;
    await withClient(primary.url, (c) => c.query(`CREATE TABLE ${probe} (id int)`));
    const deadline = Date.now() + 15_000;
    while (
      !(await withClient(replica.url, async (c) => (await c.query('SELECT to_regclass($1) AS t', [probe])).rows[0].t))
    ) {
      if (Date.now() > deadline) throw new Error(`the replica did not replay within 15 s:\n${replica.output()}`);
      await sleep(50);
    }
    await withClient(primary.url, (c) => c.query(`DROP TABLE ${probe}`));

    return {
      primaryUrl: primary.url,
      replicaUrl: replica.url,
      pauseReplay: () =>
        withClient(replica.url, async (c) => {
          await c.query('SELECT pg_wal_replay_pause()');
          // PostgreSQL 14+: pausing is requested, then takes effect; wait until it has.
          const until = Date.now() + 5000;
          while (Date.now() < until) {
            const { rows } = await c.query('SELECT pg_get_wal_replay_pause_state() AS s');
            if (rows[0].s === 'paused') return;
            await sleep(20);
          }
          throw new Error('replay did not pause within 5 s');
        }),
      resumeReplay: () =>
        withClient(replica.url, (c) => c.query('SELECT pg_wal_replay_resume()').then(() => undefined)),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
