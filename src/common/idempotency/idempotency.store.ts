import { Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';

const TTL_HOURS = 24;
// A request that has been "in progress" this long died without finishing: its key may be reused.
const STALE_IN_PROGRESS_SECONDS = 120;
const SWEEP_EVERY_MS = 10 * 60_000;

export type Begin =
  | { kind: 'started' }
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

  /** Claims the key for this request, or says why it cannot be claimed. */
  async begin(userId: string, key: string, requestHash: string): Promise<Begin> {
    const claimed: unknown[] = await this.dataSource.query(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, state, expires_at)
       VALUES ($1, $2, $3, 'in_progress', now() + make_interval(hours => ${TTL_HOURS}))
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', created_at = now(),
             expires_at = EXCLUDED.expires_at, response_status = NULL, response_body = NULL, response_location = NULL
       WHERE idempotency_keys.expires_at <= now()
          OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.request_hash = EXCLUDED.request_hash
              AND idempotency_keys.created_at < now() - make_interval(secs => ${STALE_IN_PROGRESS_SECONDS}))
       RETURNING 1`,
      [userId, key, requestHash],
    );
    if (claimed.length > 0) return { kind: 'started' };

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

  async complete(userId: string, key: string, status: number, body: unknown, location: string | null): Promise<void> {
    await this.dataSource.query(
      `UPDATE idempotency_keys SET state = 'completed', response_status = $3, response_body = $4, response_location = $5
        WHERE user_id = $1 AND key = $2`,
      [userId, key, status, JSON.stringify(body ?? null), location],
    );
  }

  /** The request failed: nothing was created, so the key is free for a retry. */
  async release(userId: string, key: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND state = 'in_progress'`,
      [userId, key],
    );
  }

  async sweep(): Promise<number> {
    const [, count]: [unknown, number] = await this.dataSource.query(
      'DELETE FROM idempotency_keys WHERE expires_at <= now()',
    );
    return count;
  }
}
