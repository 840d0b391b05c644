import { HttpStatus, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { ApiException } from '../http/api-exception';

const TTL_HOURS = 24;
// A request that has been "in progress" this long died without finishing: its key may be reused.
const STALE_IN_PROGRESS_SECONDS = 120;
const SWEEP_EVERY_MS = 10 * 60_000;

export type Begin =
  | { kind: 'started'; claim: string }
  | { kind: 'in_progress' }
  | { kind: 'mismatch' }
  | { kind: 'replay'; status: number; body: unknown; location: string | null };

/**
 * Idempotency keys in PostgreSQL, so that every instance shares them. A key belongs to one user
 * for 24 hours; expired keys are swept every 10 minutes.
 */
@Injectable()
export class IdempotencyStore implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Claims the key for this request (a claim of its own), or says why it cannot be claimed. */
  async begin(userId: string, key: string, requestHash: string): Promise<Begin> {
    const claim = randomUUID();
    const claimed: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, state, expires_at, claim)
       VALUES ($1, $2, $3, 'in_progress', now() + make_interval(hours => ${TTL_HOURS}), $4)
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', created_at = now(), claim = EXCLUDED.claim,
             expires_at = EXCLUDED.expires_at, response_status = NULL, response_body = NULL, response_location = NULL
       WHERE idempotency_keys.expires_at <= now()
          OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.request_hash = EXCLUDED.request_hash
              AND idempotency_keys.created_at < now() - make_interval(secs => ${STALE_IN_PROGRESS_SECONDS}))
       RETURNING 1`,
      [userId, key, requestHash, claim],
    );
    if (claimed.length > 0) return { kind: 'started', claim };

    const [existing]: {
      request_hash: string;
      state: string;
      response_status: number | null;
      response_body: unknown;
      response_location: string | null;
    }[] = await this.dataSource.query(
      `SELECT request_hash, state, response_status, response_body, response_location
         FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      [userId, key],
    );
    // Swept between the two statements: try once more.
    if (!existing) return this.begin(userId, key, requestHash);
    if (existing.request_hash !== requestHash) return { kind: 'mismatch' };
    if (existing.state !== 'completed') return { kind: 'in_progress' };
    return {
      kind: 'replay',
      status: existing.response_status!,
      body: existing.response_body,
      location: existing.response_location,
    };
  }

  /**
   * Stores the response of the request holding `claim`, in `manager`'s transaction: the one that
   * creates the resource, so that the resource and its replayable response commit together or not
   * at all. A claim taken over meanwhile (the request ran past STALE_IN_PROGRESS_SECONDS) stores
   * nothing and fails the transaction: the other request's result stands.
   */
  async complete(
    manager: EntityManager,
    claim: { userId: string; key: string; claim: string },
    response: { status: number; body: unknown; location: string | null },
  ): Promise<void> {
    const [rows]: [unknown[], number] = await manager.query(
      `UPDATE idempotency_keys SET state = 'completed', response_status = $4, response_body = $5, response_location = $6
        WHERE user_id = $1 AND key = $2 AND claim = $3 AND state = 'in_progress'
        RETURNING 1`,
      [claim.userId, claim.key, claim.claim, response.status, JSON.stringify(response.body ?? null), response.location],
    );
    if (rows.length === 0) {
      throw new ApiException(
        HttpStatus.CONFLICT,
        'IDEMPOTENCY_IN_PROGRESS',
        'Another request with this Idempotency-Key took over; retry to get its response',
        undefined,
        { 'Retry-After': '1' },
      );
    }
  }

  /** The request failed before its transaction committed: nothing was created, so the key is free for a retry. */
  async release(userId: string, key: string, claim: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim = $3 AND state = 'in_progress'`,
      [userId, key, claim],
    );
  }

  async sweep(): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      'DELETE FROM idempotency_keys WHERE expires_at <= now()',
    );
    return count;
  }
}
