import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  WriteStream,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MailCapture } from '../support/mail-capture';
import { Nginx, startNginx } from '../support/nginx';
import { PgBouncer, startPgBouncer } from '../support/pgbouncer';
import { PrimaryWithReplica, startPrimaryWithReplica } from '../support/postgres-replica';
import { RedisServer, startRedisServer } from '../support/redis-server';
import { S3TestServer, startS3Server } from '../support/s3-server';
import { send } from './http-client';
import { freePort, killGroup, reaper, REAPER, sleep, track, untrack, withClient } from '../support/child-processes';

// Everything the cluster test runs, on loopback: a PostgreSQL primary and its streaming replica,
// PgBouncer (transaction mode) in front of the primary, Redis, an S3-protocol server, an SMTP
// capture, N instances of the built server (dist/src/main.js, NODE_ENV=production, run from a copy) and nginx
// round robin in front of them. Each piece is stopped by stop(), and every child process is
// also killed when this process exits, whatever happened.

export const ROOT = resolve(__dirname, '../..');
const DIST = join(ROOT, 'dist');

/** `direct`: the instances use the primary only (no pooler, no replica), as a baseline. */
export type DatabaseMode = 'pooled' | 'direct';

export class Instance {
  child?: ChildProcess;
  private log = '';
  private file?: WriteStream;
  private mark = 0;
  /** Milliseconds from spawn to "listening on", and to /health/ready 200, of the last start. */
  listeningMs = 0;
  readyMs = 0;

  constructor(
    readonly name: string,
    readonly port: number,
    private readonly env: Record<string, string>,
    private readonly logDir: string,
    /** The built server's entry point (main.js). */
    private readonly main: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** host:port as nginx's $upstream_addr names it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Everything the process wrote (all its starts). */
  output(): string {
    return this.log;
  }

  /** Spawns the process and waits until it listens and its readiness probe answers 200. */
  async start(timeoutMs = 45_000): Promise<void> {
    this.spawn();
    await this.untilReady(Date.now(), timeoutMs);
  }

  /** Spawns the process (untilReady waits for it). */
  spawn(): void {
    this.file ??= createWriteStream(join(this.logDir, `instance-${this.name}.log`), { flags: 'a' });
    if (this.log) this.log += '\n--- restart ---\n';
    this.mark = this.log.length;
    const child = spawn(process.execPath, [this.main], {
      cwd: ROOT,
      env: this.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    child.once('exit', () => {
      untrack(child);
    });
    const take = (chunk: Buffer): void => {
      this.log += chunk.toString();
      this.file?.write(chunk);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    this.child = child;
  }

  /** Waits until the last spawn said it listens and /health/ready answers 200 on its port. */
  async untilReady(spawnedAt: number, timeoutMs = 45_000): Promise<void> {
    const child = this.child!;
    const deadline = spawnedAt + timeoutMs;
    while (!this.log.slice(this.mark).includes('listening on')) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `instance ${this.name} exited at start (${child.exitCode ?? child.signalCode}):\n${tail(this.log)}`,
        );
      }
      if (Date.now() > deadline) throw new Error(`instance ${this.name} did not listen in time:\n${tail(this.log)}`);
      await sleep(25);
    }
    this.listeningMs = Date.now() - spawnedAt;
    for (;;) {
      const ready = await send(this.url, 'GET', '/health/ready', { timeoutMs: 2000 }).catch(() => undefined);
      if (ready?.status === 200) break;
      if (Date.now() > deadline) {
        throw new Error(`instance ${this.name} not ready in time (${ready?.status}):\n${tail(this.log)}`);
      }
      await sleep(25);
    }
    this.readyMs = Date.now() - spawnedAt;
  }

  /** The output of the last start only. */
  lastOutput(): string {
    return this.log.slice(this.mark);
  }

  /** SIGKILL, no shutdown: what a crash or an OOM kill does. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = once(child, 'exit');
    killGroup(child, 'SIGKILL');
    await exited;
  }

  /** SIGTERM (graceful shutdown), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && this.running) {
      const exited = once(child, 'exit');
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await new Promise<void>((done) => (this.file ? this.file.end(done) : done()));
    this.file = undefined;
  }
}

/**
 * Starts test/cluster/reaper.ts, which kills every process group the cluster started (and
 * removes its folders) once this process ends, however it ends; the support modules tell it of
 * theirs through the global hook installed here. stop() ends it once everything was stopped.
 */
export function startReaper(): { stop(): void } {
  const child = spawn(process.execPath, ['-r', './tools/swc-register.js', 'test/cluster/reaper.ts'], {
    cwd: ROOT,
    detached: true,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  child.unref();
  (child.stdin as unknown as { unref(): void }).unref();
  const hooks = globalThis as unknown as Record<symbol, ((line: string) => void) | undefined>;
  hooks[REAPER] = (line: string) => child.stdin!.write(`${line}\n`);
  return {
    stop: () => {
      hooks[REAPER] = undefined;
      child.stdin!.end();
    },
  };
}

export function tail(text: string, lines = 40): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** What to stop at the end, in reverse order of starting, whatever failed. */
export class Cleanup {
  private readonly stops: { name: string; stop: () => Promise<void> }[] = [];

  add(name: string, stop: () => Promise<void>): void {
    this.stops.push({ name, stop });
  }

  /** Runs every stop, last added first; returns the failures (never throws). */
  async run(): Promise<string[]> {
    const failures: string[] = [];
    for (const { name, stop } of this.stops.splice(0).reverse()) {
      try {
        await stop();
      } catch (error) {
        failures.push(`${name}: ${String(error)}`);
      }
    }
    return failures;
  }
}

export interface ClusterOptions {
  instances: number;
  mode: DatabaseMode;
  /** RATE_LIMIT_PER_MINUTE of every instance (per client address). */
  rateLimitPerMinute: number;
}

export interface Cluster {
  mode: DatabaseMode;
  databaseName: string;
  /** The cluster's database on the primary, directly. */
  primaryDatabaseUrl: string;
  replicaDatabaseUrl: string;
  postgres: PrimaryWithReplica;
  bouncer?: PgBouncer;
  redis: RedisServer;
  s3: S3TestServer;
  mail: MailCapture;
  instances: Instance[];
  nginx: Nginx;
  /** Instance logs, nginx's access log at the end. */
  logDir: string;
  /** The moment every instance was spawned (at once). */
  spawnedAt: number;
  /** Milliseconds each phase of the start took. */
  timings: Record<string, number>;
  /** A statement on the cluster's database on the primary. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** A statement on the cluster's database on the replica. */
  replicaQuery<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * Starts the whole cluster; each piece is added to `cleanup` as soon as it runs, so that the
 * caller's afterAll stops it even when the start fails or times out half-way.
 */
export async function startCluster(options: ClusterOptions, cleanup: Cleanup): Promise<Cluster> {
  const timings: Record<string, number> = {};
  const time = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const at = Date.now();
    const result = await work();
    timings[name] = Date.now() - at;
    return result;
  };
  if (!existsSync(join(DIST, 'src/main.js')))
    throw new Error(`${DIST}/src/main.js is missing: run npm run build first`);
  // Kept when the run fails (the spec removes it otherwise), hence not handed to the reaper.
  const logDir = mkdtempSync(join(tmpdir(), 'tasklane-cluster-'));
  // The instances run a copy of the build, so that a rebuild meanwhile (nest build empties dist/
  // first) cannot pull the files from under a restart. Inside the project, so that Node finds
  // node_modules from it.
  mkdirSync(join(ROOT, '.data'), { recursive: true });
  const build = mkdtempSync(join(ROOT, '.data', 'cluster-build-'));
  reaper(`dir ${build}`);
  cleanup.add('build copy', async () => {
    rmSync(build, { recursive: true, force: true });
    reaper(`-dir ${build}`);
  });
  cpSync(DIST, build, { recursive: true });
  const main = join(build, 'src/main.js');

  const postgres = await time('postgres primary + replica', startPrimaryWithReplica);
  cleanup.add('postgres', () => postgres.stop());
  const [redis, s3, mail] = await time('redis, s3, smtp', () =>
    Promise.all([
      startRedisServer().then((r) => (cleanup.add('redis', () => r.stop()), r)),
      startS3Server().then((s) => (cleanup.add('s3', () => s.stop()), s)),
      new MailCapture().start().then((m) => (cleanup.add('smtp', () => m.stop()), m)),
    ]),
  );

  const databaseName = `tasklane_cluster_${randomBytes(4).toString('hex')}`;
  await withClient(postgres.primaryUrl, (c) => c.query(`CREATE DATABASE ${databaseName}`));
  const withDatabase = (url: string): string => {
    const u = new URL(url);
    u.pathname = `/${databaseName}`;
    return u.toString();
  };
  const primaryDatabaseUrl = withDatabase(postgres.primaryUrl);
  const replicaDatabaseUrl = withDatabase(postgres.replicaUrl);

  let bouncer: PgBouncer | undefined;
  if (options.mode === 'pooled') {
    bouncer = await time('pgbouncer', () => startPgBouncer(postgres.primaryUrl));
    cleanup.add('pgbouncer', () => bouncer!.stop());
  }

  const database: Record<string, string> =
    options.mode === 'pooled'
      ? {
          DATABASE_URL: bouncer!.url(primaryDatabaseUrl),
          DATABASE_POOLER: 'transaction',
          DATABASE_DIRECT_URL: primaryDatabaseUrl,
          DATABASE_REPLICA_URLS: replicaDatabaseUrl,
        }
      : { DATABASE_URL: primaryDatabaseUrl };
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    ...database,
    REDIS_URL: redis.url,
    ...s3.env,
    // Where arriving uploads wait for their type check (the files themselves go to S3).
    UPLOAD_DIR: join(logDir, 'uploads'),
    TRUST_PROXY: 'loopback',
    JWT_SECRET: randomBytes(32).toString('hex'),
    SMTP_URL: mail.url,
    APP_URL: 'https://tasklane.test',
    MAIL_FROM: 'Tasklane <no-reply@tasklane.test>',
    RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute),
    MIGRATIONS_RUN: 'true',
    LOG_LEVEL: 'info',
    SHUTDOWN_TIMEOUT_MS: '2000',
  };
  const instances: Instance[] = [];
  for (let i = 0; i < options.instances; i++) {
    const port = await freePort();
    const instance = new Instance(String.fromCharCode(65 + i), port, { ...env, PORT: String(port) }, logDir, main);
    instances.push(instance);
    cleanup.add(`instance ${instance.name}`, () => instance.stop());
  }

  // All at the same moment: they race for the migrations.
  const spawnedAt = Date.now();
  for (const instance of instances) instance.spawn();
  await time('instances (spawn to all ready)', () => Promise.all(instances.map((i) => i.untilReady(spawnedAt))));

  const nginx = await time('nginx', () => startNginx(instances.map((i) => i.port)));
  cleanup.add('nginx', async () => {
    writeFileSync(join(logDir, 'nginx-access.log'), nginx.accessLog());
    await nginx.stop();
  });

  const query = <T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> =>
    withClient(url, async (c) => (await c.query(sql, params)).rows as T[]);

  return {
    mode: options.mode,
    databaseName,
    primaryDatabaseUrl,
    replicaDatabaseUrl,
    postgres,
    bouncer,
    redis,
    s3,
    mail,
    instances,
    nginx,
    logDir,
    spawnedAt,
    timings,
    query: (sql, params) => query(primaryDatabaseUrl, sql, params),
    replicaQuery: (sql, params) => query(replicaDatabaseUrl, sql, params),
  };
}
