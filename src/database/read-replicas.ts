import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import type { Statement } from './statement';
import { Notifications } from './notifications';

const CHANNEL = 'tasklane_read_fences';
const POLL_INTERVAL_MS = 1000;
/** A replica that has not replayed what the primary had this long ago serves no reads. */
const MAX_LAG_MS = 30_000;
/** Bounds the fences held in memory (an entry is ~100 bytes); past it, reads go to the primary. */
const MAX_FENCES = 100_000;
const NEVER = BigInt(Number.MAX_SAFE_INTEGER) ** 2n;
/** How long a write's response may wait for the replicas to replay it (see recordWrite). */
const REPLAY_WAIT_MS = 100;
const REPLAY_CHECK_MS = 2;
/** A replica that did not replay a write within REPLAY_WAIT_MS is not waited for again this long. */
const NOT_WAITED_FOR_MS = 5000;
/** How long a write's response may wait for its fence's notification to come back. */
const ECHO_WAIT_MS = 100;

/** A WAL position (`16/B374D848`) as a number, to compare. */
export function walPosition(lsn: string): bigint {
  const [high, low] = lsn.split('/');
  return (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
}

interface Replica {
  label: string;
  pool: Pool;
  /** What it has replayed, as last read from it: a position it has certainly reached. */
  replayed: bigint;
  healthy: boolean;
  /** Until when writes do not wait for it (it fell behind a write): epoch ms. */
  notWaitedForUntil: number;
}

export interface ReplicaReadStats {
  replica: number;
  primary: number;
  replicasHealthy: number;
  replicas: number;
}

/**
 * Read replicas (DATABASE_REPLICA_URLS) and the rule that decides when one may serve a read that
 * may lag (contract §21): a client always reads its own writes.
 *
 * After every write request by a principal, the WAL position the primary had reached once it
 * committed is published (NOTIFY, so every instance hears it): the principal's *fence*. A read
 * by that principal goes to a replica only once the replica has replayed past its fence, checked
 * on the replica itself when the last known position is not enough; else to the primary. Until
 * this instance listens (at boot, and after the listening connection drops) it may have missed
 * fences, so the floor for everybody is the primary's position when it started listening again.
 * A replica that fails, or lags more than 30 s, serves nothing until it is back.
 */
@Injectable()
export class ReadReplicas implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ReadReplicas.name);
  private readonly replicas: Replica[];
  /** principal id → WAL position of its last write */
  private readonly fences = new Map<string, bigint>();
  /** Every read must see at least this: NEVER while not listening. */
  private floor = NEVER;
  /** The primary's position a while ago, for the lag bound: [when, position]. */
  private readonly primaryHistory: [number, bigint][] = [];
  private next = 0;
  private timer?: NodeJS.Timeout;
  /** A poll waiting on a replica that does not answer is not joined by the next one. */
  private polling = false;
  private readonly counts = { replica: 0, primary: 0 };
  /** Fences published here whose notification has not come back yet: tag → resolve. */
  private readonly echoes = new Map<string, () => void>();

  constructor(
    config: AppConfig,
    private readonly notifications: Notifications,
    private readonly dataSource: DataSource,
  ) {
    this.replicas = config.env.DATABASE_REPLICA_URLS.map((url, index) => ({
      label: `replica ${index + 1} (${new URL(url).host})`,
      pool: this.openPool(url, config),
      replayed: 0n,
      healthy: false,
      notWaitedForUntil: 0,
    }));
  }

  get enabled(): boolean {
    return this.replicas.length > 0;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    await this.notifications.listen({
      channel: CHANNEL,
      onMessage: (payload) => {
        const [principalId, lsn, tag] = payload.split(' ');
        if (tag) this.echoes.get(tag)?.();
        if (principalId && lsn) this.raiseFence(principalId, walPosition(lsn));
      },
      // Whatever was published while not listening is at most the primary's position now.
      onListening: async () => {
        this.floor = await this.primaryPosition();
      },
      onLost: () => {
        this.floor = NEVER;
      },
    });
    await this.poll();
    this.timer = setInterval(() => void this.poll(), POLL_INTERVAL_MS).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.replicas.map((replica) => replica.pool.end().catch(() => undefined)));
  }

  /**
   * After a principal's write has committed: its fence, here at once and on every other instance
   * when the notification arrives. Awaited before the response leaves, and it waits (briefly,
   * bounded) for two things, because the notification alone is not enough: another instance
   * hears it only once PostgreSQL has woken that instance's listening backend, which on a busy
   * machine can take longer than the client needs to send its next request there. So the write
   * waits until the replicas have replayed it (then no instance can read it stale, heard or not),
   * and until its own notification has come back (the others are woken at the same moment). A
   * replica that does not catch up within REPLAY_WAIT_MS is not waited for again for a while:
   * its readers then rely on the fence.
   */
  async recordWrite(principalId: string): Promise<void> {
    // The notification names the write (a third word, which readers ignore) so that it is known
    // when it comes back, even if it does so before the statement's own result.
    const tag = randomUUID();
    const echoed = this.floor === NEVER ? undefined : this.echoOf(tag);
    try {
      const [row] = await this.dataSource.query<{ lsn: string }[]>(
        `WITH w AS (SELECT pg_current_wal_insert_lsn()::text AS lsn)
         SELECT lsn, pg_notify($1, $2 || ' ' || lsn || ' ' || $3) FROM w`,
        [CHANNEL, principalId, tag],
      );
      const fence = walPosition(row.lsn);
      this.raiseFence(principalId, fence);
      // Not listening: nothing comes back, and nobody reads from a replica.
      if (echoed) await Promise.all([this.untilReplayed(fence), echoed.heard]);
    } finally {
      echoed?.forget();
    }
  }

  /** `heard` resolves when the notification tagged `tag` comes back, or after ECHO_WAIT_MS. */
  private echoOf(tag: string): { heard: Promise<void>; forget(): void } {
    let timer: NodeJS.Timeout | undefined;
    const heard = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ECHO_WAIT_MS);
      this.echoes.set(tag, resolve);
    });
    return {
      heard,
      forget: () => {
        clearTimeout(timer);
        this.echoes.delete(tag);
      },
    };
  }

  /** Waits until every healthy replica waited for has replayed `position`, for REPLAY_WAIT_MS at most. */
  private async untilReplayed(position: bigint): Promise<void> {
    const deadline = Date.now() + REPLAY_WAIT_MS;
    await Promise.all(
      this.replicas.map(async (replica) => {
        while (replica.healthy && replica.replayed < position && replica.notWaitedForUntil <= Date.now()) {
          if ((await this.refresh(replica)) >= position) return;
          if (Date.now() >= deadline) {
            replica.notWaitedForUntil = Date.now() + NOT_WAITED_FOR_MS;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, REPLAY_CHECK_MS));
        }
      }),
    );
  }

  /**
   * The rows of a read that may lag, for `readerId`: from a replica that has replayed the
   * reader's writes, else from the primary (`primary`).
   */
  async rows<Row extends QueryResultRow>(
    readerId: string,
    statement: Statement,
    primary: (statement: Statement) => Promise<Row[]>,
  ): Promise<Row[]> {
    const replica = await this.replicaFor(readerId);
    if (replica) {
      try {
        const result = await replica.pool.query<Row>({ text: statement.text, values: statement.values });
        this.counts.replica++;
        return result.rows;
      } catch (error) {
        // A statement the primary would refuse too (bad input, a timeout) is not the replica's fault.
        if (!replicaUnavailable(error)) throw error;
        this.markDown(replica, error as Error);
      }
    }
    this.counts.primary++;
    return primary(statement);
  }

  stats(): ReplicaReadStats {
    return {
      ...this.counts,
      replicas: this.replicas.length,
      replicasHealthy: this.replicas.filter((replica) => replica.healthy).length,
    };
  }

  private async replicaFor(readerId: string): Promise<Replica | undefined> {
    const own = this.fences.get(readerId) ?? 0n;
    const needed = own > this.floor ? own : this.floor;
    if (needed === NEVER) return undefined;
    for (let tried = 0; tried < this.replicas.length; tried++) {
      const replica = this.replicas[this.next++ % this.replicas.length];
      if (!replica.healthy) continue;
      if (replica.replayed >= needed) return replica;
      // Behind as far as this instance knows: ask it (it may well have caught up since).
      if ((await this.refresh(replica)) >= needed) return replica;
    }
    return undefined;
  }

  private raiseFence(principalId: string, position: bigint): void {
    if ((this.fences.get(principalId) ?? 0n) >= position) return;
    if (this.fences.size >= MAX_FENCES && !this.fences.has(principalId)) {
      // Too many to remember: nobody reads from a replica until it has replayed this write.
      this.floor = position > this.floor ? position : this.floor;
      return;
    }
    this.fences.set(principalId, position);
  }

  /** Reads where a replica is; 0 (and marked down) when it does not answer. */
  private async refresh(replica: Replica): Promise<bigint> {
    try {
      const { rows } = await replica.pool.query<{ lsn: string | null; recovering: boolean }>(
        'SELECT pg_last_wal_replay_lsn()::text AS lsn, pg_is_in_recovery() AS recovering',
      );
      // Not in recovery: a primary listed as a replica (it has everything).
      const position = rows[0].recovering ? walPosition(rows[0].lsn ?? '0/0') : NEVER - 1n;
      if (position > replica.replayed) replica.replayed = position;
      return replica.replayed;
    } catch (error) {
      this.markDown(replica, error as Error);
      return 0n;
    }
  }

  /** Every second: where each replica is, whether it is too far behind, and fences no longer needed. */
  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const now = Date.now();
      this.primaryHistory.push([now, await this.primaryPosition()]);
      while (this.primaryHistory.length > 1 && this.primaryHistory[1][0] <= now - MAX_LAG_MS) {
        this.primaryHistory.shift();
      }
      const [sampledAt, then] = this.primaryHistory[0];
      const lagBound = sampledAt <= now - MAX_LAG_MS ? then : 0n;
      for (const replica of this.replicas) {
        const replayed = await this.refresh(replica);
        const healthy = replayed > 0n && replayed >= lagBound;
        if (healthy !== replica.healthy) {
          if (healthy) this.logger.log(`${replica.label} serves reads`);
          else if (replayed > 0n) this.logger.warn(`${replica.label} is more than ${MAX_LAG_MS / 1000} s behind`);
        }
        replica.healthy = healthy;
      }
      const everywhere = this.replicas.reduce((min, r) => (r.healthy && r.replayed < min ? r.replayed : min), NEVER);
      for (const [principalId, position] of this.fences) if (position <= everywhere) this.fences.delete(principalId);
    } catch (error) {
      this.logger.warn(`Could not check the read replicas: ${(error as Error).message}`);
    } finally {
      this.polling = false;
    }
  }

  private async primaryPosition(): Promise<bigint> {
    const [row] = await this.dataSource.query<{ lsn: string }[]>('SELECT pg_current_wal_insert_lsn()::text AS lsn');
    return walPosition(row.lsn);
  }

  private markDown(replica: Replica, error: Error): void {
    if (replica.healthy) this.logger.warn(`${replica.label} serves no reads until it answers again: ${error.message}`);
    replica.healthy = false;
  }

  private openPool(url: string, config: AppConfig): Pool {
    const pool = new Pool({
      connectionString: url,
      max: config.env.DB_POOL_MAX,
      connectionTimeoutMillis: config.env.DB_CONNECTION_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      application_name: 'tasklane-reads',
      // Reads hold no session state, so a replica may sit behind a transaction pooler too: then
      // no startup parameters, as on DATABASE_URL (the role's statement_timeout applies).
      ...(config.behindTransactionPooler ? {} : { statement_timeout: config.env.DB_STATEMENT_TIMEOUT_MS }),
    });
    pool.on('error', (error) => this.logger.warn(`Replica connection: ${error.message}`));
    return pool;
  }
}

/**
 * The replica, not the statement, failed: no SQLSTATE (a socket error, a connect timeout), class
 * 08 (connection exception), 57P (shutting down, cannot connect now), or 40001 from a standby
 * (a statement cancelled by a conflict with recovery).
 */
function replicaUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^[0-9A-Z]{5}$/.test(code)) return true;
  return code.startsWith('08') || code.startsWith('57P') || code === '40001';
}
