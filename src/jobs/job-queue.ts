import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { AppConfig } from '../config/app-config';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { SealedPayload } from './sealed-payload';

/** The schema pg-boss keeps its tables in (see docs/jobs.md). */
export const JOB_SCHEMA = 'pgboss';
/** The schema version this pg-boss release works with (installed by its own migrations). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- pg-boss publishes it only as this file
const JOB_SCHEMA_VERSION = (require('pg-boss/version.json') as { schema: number }).schema;
const SCHEMA_POLL_MS = 2000;
/** pg-boss 10 bounds the backoff exponent: wait n is at most retryDelay × 2^16 (plans.js, failJobs). */
const MAX_BACKOFF_EXPONENT = 16;
/** How long pg-boss keeps a job that waits to start or to be retried, by default (`keep_until`). */
const DEFAULT_RETENTION_SECONDS = 14 * 86400;
const DAY_SECONDS = 86400;
/** At shutdown, how long the jobs in hand may take to finish; one cut off is retried after its timeout. */
const STOP_TIMEOUT_MS = 3000;

/** A queue's state for /metrics: in the database (all instances), and this process's attempts. */
export interface JobStats {
  name: string;
  /** Waiting to start, or to be retried. */
  waiting: number;
  /** Being worked, by any instance. */
  active: number;
  /** This process's attempts since it started: done, failed (to be retried or not), given up. */
  completed: number;
  failed: number;
  abandoned: number;
}

/** A kind of background job: its queue, how it is retried, and what does it. */
export interface JobKind<Data extends object> {
  /** The queue name, `mail.send`. */
  name: string;
  /** Attempts after the first. */
  retryLimit: number;
  /** Seconds before the first retry; each further retry waits about twice as long (backoff). */
  retryDelaySeconds: number;
  /**
   * The longest wait between two attempts: the backoff doubles the wait up to it, then the job is
   * retried this often (pg-boss 10 has no such bound: its waits double up to `retryDelay × 2^16`).
   * None by default.
   */
  retryDelayMaxSeconds?: number;
  /** How long one attempt may run before it counts as failed (and is retried). */
  timeoutSeconds: number;
  /** Its data is encrypted at rest in the queue (it holds secrets or personal data). */
  sealed?: boolean;
  /** Jobs of this kind one process works at once (default 1). */
  concurrency?: number;
  handle(data: Data): Promise<void>;
}

/** What decides when a failed job is retried, and for how long. */
export type RetryPolicy = Pick<JobKind<object>, 'retryLimit' | 'retryDelaySeconds' | 'retryDelayMaxSeconds'>;

/**
 * Whether the wait after attempt `retryCount + 1` fails is the fixed `retryDelayMaxSeconds`: once
 * pg-boss's backoff could wait longer than it.
 */
function cappedAt(policy: Omit<RetryPolicy, 'retryLimit'>, retryCount: number): boolean {
  const { retryDelayMaxSeconds: max } = policy;
  const delay = Math.max(1, policy.retryDelaySeconds);
  return max !== undefined && delay * 2 ** Math.min(MAX_BACKOFF_EXPONENT, retryCount + 1) > max;
}

/**
 * The wait, in seconds, before the retry that follows a failure of attempt `retryCount + 1`:
 * pg-boss 10's backoff (`retryDelay × 2^min(16, retryCount + 1) / 2 × (1 + random())`), or
 * `retryDelayMaxSeconds` from the first failure whose backoff could exceed it.
 */
export function retryWaitSeconds(
  policy: Omit<RetryPolicy, 'retryLimit'>,
  retryCount: number,
): { min: number; max: number } {
  if (cappedAt(policy, retryCount)) return { min: policy.retryDelayMaxSeconds!, max: policy.retryDelayMaxSeconds! };
  const longest = Math.max(1, policy.retryDelaySeconds) * 2 ** Math.min(MAX_BACKOFF_EXPONENT, retryCount + 1);
  return { min: longest / 2, max: longest };
}

/** From the first attempt's failure to the last retry: the sum of the waits, in seconds. */
export function retrySpanSeconds(policy: RetryPolicy): { min: number; max: number } {
  let min = 0;
  let max = 0;
  for (let retryCount = 0; retryCount < policy.retryLimit; retryCount++) {
    const wait = retryWaitSeconds(policy, retryCount);
    min += wait.min;
    max += wait.max;
  }
  return { min, max };
}

/** The fewest retries whose waits add up to at least `spanSeconds`, whatever the randomness. */
export function retryLimitToSpan(spanSeconds: number, policy: Omit<RetryPolicy, 'retryLimit'>): number {
  let retryLimit = 0;
  for (let span = 0; span < spanSeconds; retryLimit++) span += retryWaitSeconds(policy, retryLimit).min;
  return retryLimit;
}

/**
 * How long the queue keeps a job waiting to start or to be retried (pg-boss's `keep_until`, counted
 * from when it was first due; past it, a job still waiting is archived and never worked): pg-boss's
 * 14 days, or longer for a kind whose retries span longer — its waits, every attempt running to its
 * timeout, and a day to spare.
 */
export function retentionSeconds(kind: RetryPolicy & Pick<JobKind<object>, 'timeoutSeconds'>): number {
  const longest = retrySpanSeconds(kind).max + (kind.retryLimit + 1) * kind.timeoutSeconds + DAY_SECONDS;
  return Math.max(DEFAULT_RETENTION_SECONDS, Math.ceil(longest));
}

/**
 * Background jobs on pg-boss, in the application's own PostgreSQL (a pool of its own: a connection per worker, and one for maintenance): a job is
 * inserted in the transaction of the change that causes it (none for a change that rolled back,
 * none lost once it committed), and worked by whichever instance claims it first (SKIP LOCKED):
 * each job is done once across any number of instances, retried with exponential backoff when
 * its handler throws, and kept across restarts. The rest of the application sees only `define`
 * and `enqueue`.
 */
@Injectable()
export class JobQueue implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobQueue.name);
  /** Made in onModuleInit, once every kind is defined (its pool is sized from them). */
  private boss!: PgBoss;
  private readonly kinds = new Map<string, JobKind<object>>();
  /** queue name → this process's worker ids, to wake them when a job is committed here. */
  private readonly workers = new Map<string, string[]>();
  private readonly sealing: SealedPayload;
  private readonly tallies = new Map<string, Pick<JobStats, 'completed' | 'failed' | 'abandoned'>>();
  /** The kinds whose queue exists and whose workers (if any) run in this process. */
  private readonly ready = new Set<string>();
  /** Handlers running in this process. */
  private readonly inFlight = new Set<Promise<void>>();
  private lastStats: JobStats[] = [];
  private started = false;
  private bossStarted = false;
  private stopping = false;
  private waiting?: NodeJS.Timeout;

  constructor(
    private readonly database: Database,
    private readonly config: AppConfig,
  ) {
    this.sealing = new SealedPayload(config.jwtSecret, 'job payloads');
  }

  private createBoss(): PgBoss {
    // A connection for each worker of this process and one for maintenance: a poll never waits
    // for a connection (one waiting when the pool closes would hold its worker for seconds).
    const workers = this.config.env.JOB_WORKERS
      ? [...this.kinds.values()].reduce((sum, kind) => sum + (kind.concurrency ?? 1), 0)
      : 0;
    const boss = new PgBoss({
      // A small pool of its own: polling and maintenance never wait for, nor hold, a connection
      // that requests need (a job is still inserted on its change's transaction, see enqueue).
      connectionString: this.config.databaseUrl,
      max: workers + 1,
      application_name: 'tasklane-jobs',
      // pg's own option, passed through to its pool: a database that does not answer fails a poll
      // (retried at the next) instead of holding it.
      connectionTimeoutMillis: this.config.env.DB_CONNECTION_TIMEOUT_MS,
      schema: JOB_SCHEMA,
      // The schema is installed and upgraded by pg-boss's own locked migrations, at the same
      // moment as the application's (MIGRATIONS_RUN, or `npm run cli -- migrate`).
      migrate: this.config.env.MIGRATIONS_RUN,
      // No cron schedules yet; maintenance (expiry, archiving, retention) runs on every instance
      // and takes turns through the database.
      schedule: false,
      supervise: true,
    } as PgBoss.ConstructorOptions);
    boss.on('error', (error: Error) => this.logger.warn(`Job queue: ${error.message}`));
    return boss;
  }

  /** Registers a kind of job; call from a provider's constructor. */
  define<Data extends object>(kind: JobKind<Data>): JobKind<Data> {
    if (this.started || this.waiting) throw new Error(`Job kind ${kind.name} defined after the queue started`);
    if (kind.retryDelayMaxSeconds !== undefined && kind.retryDelayMaxSeconds < kind.retryDelaySeconds) {
      throw new Error(`Job kind ${kind.name}: retryDelayMaxSeconds is less than retryDelaySeconds`);
    }
    this.kinds.set(kind.name, kind as unknown as JobKind<object>);
    return kind;
  }

  /**
   * Adds a job in `tx`; it becomes visible to workers when `tx` commits (and, with
   * `startAfterSeconds`, that many seconds later: a retry schedule of the feature's own). Returns its id.
   */
  async enqueue<Data extends object>(
    tx: Transaction,
    kind: JobKind<Data>,
    data: Data,
    options: { startAfterSeconds?: number } = {},
  ): Promise<string> {
    const payload = kind.sealed ? { sealed: this.sealing.seal(data) } : data;
    const id = await this.boss.send(kind.name, payload, {
      db: { executeSql: async (text, values) => ({ rows: await tx.rows({ text, values }) }) },
      ...(options.startAfterSeconds ? { startAfter: options.startAfterSeconds } : {}),
    });
    if (!id) throw new Error(`The job queue refused a ${kind.name} job`);
    tx.afterCommit(() => this.wake(kind.name));
    return id;
  }

  /** False until the queue runs (its schema not installed yet, with MIGRATIONS_RUN=false), and once stopping. */
  get isRunning(): boolean {
    return this.started;
  }

  /**
   * Starts the queue and this process's workers. With MIGRATIONS_RUN=false the schema may not be
   * there yet (a deploy runs `npm run cli -- migrate` as its own step): the instance then boots,
   * reports not ready (/health/ready), and starts the queue once the schema is installed.
   */
  // onModuleInit: before any onApplicationBootstrap (the demo data) can queue a job.
  async onModuleInit(): Promise<void> {
    this.boss = this.createBoss();
    if (await this.tryStart()) return;
    this.logger.warn('The job queue schema (pgboss) is not installed: waiting for `npm run cli -- migrate`');
    this.retryStart();
  }

  /** Stops fetching and lets the jobs in hand finish (STOP_TIMEOUT_MS at most), before the pool closes. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.waiting);
    this.started = false;
    if (!this.bossStarted) return this.boss && closePool(this.boss);
    this.bossStarted = false;
    await this.boss.stop({ graceful: true, wait: true, close: true, timeout: STOP_TIMEOUT_MS });
    // A job fetched while pg-boss was stopping still gets its handler run: let that finish too,
    // while the application's pool it writes to is open (it closes after this hook).
    let deadline: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.inFlight),
      new Promise((resolve) => (deadline = setTimeout(resolve, STOP_TIMEOUT_MS))),
    ]);
    clearTimeout(deadline);
  }

  /** Tries again in SCHEMA_POLL_MS, one attempt at a time, until the queue runs or the process stops. */
  private retryStart(): void {
    if (this.stopping) return;
    this.waiting = setTimeout(() => {
      this.tryStart().then(
        (started) => started || this.retryStart(),
        (error: Error) => {
          this.logger.warn(`The job queue could not start: ${error.message}`);
          this.retryStart();
        },
      );
    }, SCHEMA_POLL_MS).unref();
  }

  /** Starts pg-boss, then each kind's queue and workers not started yet; false while the schema is missing. */
  private async tryStart(): Promise<boolean> {
    if (!this.config.env.MIGRATIONS_RUN && (await this.installedSchemaVersion()) !== JOB_SCHEMA_VERSION) return false;
    if (!this.bossStarted) {
      try {
        await this.boss.start();
      } catch (error) {
        // A PgBoss whose start failed cannot be started again: close its pool, make a new one.
        await closePool(this.boss);
        this.boss = this.createBoss();
        throw error;
      }
      this.bossStarted = true;
    }
    for (const kind of this.kinds.values()) {
      if (this.ready.has(kind.name)) continue;
      await this.ensureQueue(kind);
      if (this.config.env.JOB_WORKERS) this.workers.set(kind.name, await this.startWorkers(kind));
      this.ready.add(kind.name);
    }
    this.started = true;
    return true;
  }

  /** The version of the pgboss schema in the database, if there is one (asked before pg-boss opens its pool). */
  private async installedSchemaVersion(): Promise<number | undefined> {
    const rows = await this.database
      .rows<{ version: number }>({ text: `SELECT version FROM ${JOB_SCHEMA}.version` })
      .catch(() => []);
    return rows[0]?.version;
  }

  /**
   * Creates the kind's queue, or brings its retry policy up to date. Instances booting together on
   * a new database race to create it (pg-boss's create_queue deadlocks against itself): the loser
   * finds it made and updates it.
   */
  private async ensureQueue(kind: JobKind<object>): Promise<void> {
    const policy = {
      name: kind.name,
      retryLimit: kind.retryLimit,
      retryDelay: kind.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: kind.timeoutSeconds,
      // Stated rather than left to pg-boss's default: a job must outlive its last retry.
      retentionMinutes: Math.ceil(retentionSeconds(kind) / 60),
    };
    for (let attempt = 1; ; attempt++) {
      if (await this.boss.getQueue(kind.name)) return this.boss.updateQueue(kind.name, policy);
      try {
        return await this.boss.createQueue(kind.name, policy);
      } catch (error) {
        if (attempt === 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
      }
    }
  }

  private async startWorkers(kind: JobKind<object>): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < (kind.concurrency ?? 1); i++) {
      const options = {
        batchSize: 1,
        includeMetadata: true,
        pollingIntervalSeconds: this.config.env.JOB_POLL_INTERVAL_MS / 1000,
      } as const;
      ids.push(await this.boss.work<object>(kind.name, options, ([job]) => this.track(this.attempt(kind, job))));
    }
    return ids;
  }

  /**
   * Every queue's jobs and this process's attempts (two small queries per queue). When the
   * database does not answer, the last counts it gave, with this process's attempts up to date:
   * /metrics must answer most of all during an outage.
   */
  async stats(): Promise<JobStats[]> {
    if (!this.started) return [];
    try {
      const stats: JobStats[] = [];
      for (const name of this.kinds.keys()) {
        const waiting = await this.boss.getQueueSize(name);
        const unfinished = await this.boss.getQueueSize(name, { before: 'completed' });
        stats.push({ name, waiting, active: unfinished - waiting, ...this.tally(name) });
      }
      return (this.lastStats = stats);
    } catch (error) {
      this.logger.warn(`Job queue sizes unavailable: ${(error as Error).message}`);
      return this.lastStats.map((stats) => ({ ...stats, ...this.tally(stats.name) }));
    }
  }

  private tally(name: string): Pick<JobStats, 'completed' | 'failed' | 'abandoned'> {
    let tally = this.tallies.get(name);
    if (!tally) this.tallies.set(name, (tally = { completed: 0, failed: 0, abandoned: 0 }));
    return tally;
  }

  /** Keeps the handler's promise in `inFlight` until it settles (shutdown waits for them). */
  private track(attempt: Promise<void>): Promise<void> {
    this.inFlight.add(attempt);
    const untrack = (): void => void this.inFlight.delete(attempt);
    attempt.then(untrack, untrack);
    return attempt;
  }

  private async attempt(kind: JobKind<object>, job: PgBoss.JobWithMetadata<object>): Promise<void> {
    const tally = this.tally(kind.name);
    await this.capRetryDelay(kind, job);
    try {
      const { data } = job as PgBoss.JobWithMetadata<object & { sealed?: string }>;
      await kind.handle(kind.sealed ? this.sealing.open<object>(data.sealed!) : data);
      tally.completed++;
    } catch (error) {
      const last = job.retryCount >= job.retryLimit;
      tally.failed++;
      if (last) tally.abandoned++;
      const attempt = `attempt ${job.retryCount + 1} of ${job.retryLimit + 1}`;
      this.logger.warn(
        `Job ${kind.name} ${job.id} failed (${attempt}${last ? ', giving up' : ', will retry'}): ${(error as Error).message}`,
      );
      // pg-boss keeps what the handler threw in the job's `output`, unencrypted: for a sealed kind
      // only the kind of failure, not a message that may quote the address or the server's reply.
      if (!kind.sealed) throw error;
      const bare = new Error(failureKind(error));
      bare.stack = bare.message;
      throw bare;
    }
  }

  /**
   * pg-boss 10 has no longest wait (`retryDelayMax` came with 11, timgit/pg-boss#441): once the
   * backoff could wait longer than `retryDelayMaxSeconds`, this switches the job to fixed waits of
   * that length, on its own row (pg-boss computes a retry's start from the failed job's
   * `retry_delay` and `retry_backoff`). Done when the attempt starts, so that it holds however the attempt fails
   * (the handler throws, times out, or its process dies), and once per job. Should the update
   * fail, this attempt's retry waits up to twice the bound, and the next attempt tries again.
   */
  private async capRetryDelay(kind: JobKind<object>, job: PgBoss.JobWithMetadata<object>): Promise<void> {
    const max = kind.retryDelayMaxSeconds;
    if (max === undefined || !job.retryBackoff || job.retryCount >= job.retryLimit) return;
    if (!cappedAt({ retryDelaySeconds: job.retryDelay, retryDelayMaxSeconds: max }, job.retryCount)) return;
    try {
      await this.boss
        .getDb()
        .executeSql(
          `UPDATE ${JOB_SCHEMA}.job SET retry_backoff = false, retry_delay = $3 WHERE name = $1 AND id = $2`,
          [kind.name, job.id, max],
        );
    } catch (error) {
      this.logger.warn(`Job ${kind.name} ${job.id}: its retry delay could not be bounded: ${(error as Error).message}`);
    }
  }

  /** A worker of this process picks up a job committed here at once, instead of at its next poll. */
  private wake(name: string): void {
    for (const workerId of this.workers.get(name) ?? []) this.boss.notifyWorker(workerId);
  }
}

/** `ECONNREFUSED`, `EENVELOPE 550`, `Error`: what failed, without the message. */
function failureKind(error: unknown): string {
  const { name, code, responseCode } = (error ?? {}) as { name?: string; code?: string; responseCode?: number };
  return [code ?? name ?? 'Error', responseCode].filter((part) => part !== undefined).join(' ');
}

/** Closes the pool of a PgBoss that never started or failed to (its `stop()` would do nothing). */
async function closePool(boss: PgBoss): Promise<void> {
  const db = boss.getDb() as { opened?: boolean; close?: () => Promise<void> };
  if (db.opened) await db.close?.().catch(() => undefined);
}

/**
 * Installs or upgrades the job queue's schema (pg-boss's own migrations, under its own
 * transaction-scoped advisory lock), on a connection the caller provides: `npm run cli -- migrate`.
 */
export async function migrateJobSchema(executeSql: PgBoss.Db['executeSql']): Promise<void> {
  const boss = new PgBoss({ db: { executeSql }, schema: JOB_SCHEMA, migrate: true, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  await boss.stop({ graceful: false, wait: true, close: false });
}
