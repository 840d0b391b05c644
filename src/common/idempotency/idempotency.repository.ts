import { Injectable } from '@nestjs/common';
import { Database } from '../../database/database';
import type { Transaction } from '../../database/unit-of-work';

const TTL_HOURS = 24;
// A request that has been "in progress" this long died without finishing: its key may be reused.
const STALE_IN_PROGRESS_SECONDS = 120;

export interface StoredKey {
  request_hash: string;
  state: string;
  response_status: number | null;
  response_body: unknown;
  response_location: string | null;
}

export interface KeyClaim {
  userId: string;
  key: string;
  claim: string;
}

/** All SQL for idempotency_keys. */
@Injectable()
export class IdempotencyRepository {
  constructor(private readonly db: Database) {}

  /** Takes the key for `claim` if it is free, expired, or held by a request that died; false otherwise. */
  async claim(userId: string, key: string, requestHash: string, claim: string): Promise<boolean> {
    const rows = await this.db.rows({
      text: `INSERT INTO idempotency_keys (user_id, key, request_hash, state, expires_at, claim)
       VALUES ($1, $2, $3, 'in_progress', now() + make_interval(hours => ${TTL_HOURS}), $4)
       ON CONFLICT (user_id, key) DO UPDATE
         SET request_hash = EXCLUDED.request_hash, state = 'in_progress', created_at = now(), claim = EXCLUDED.claim,
             expires_at = EXCLUDED.expires_at, response_status = NULL, response_body = NULL, response_location = NULL
       WHERE idempotency_keys.expires_at <= now()
          OR (idempotency_keys.state = 'in_progress' AND idempotency_keys.request_hash = EXCLUDED.request_hash
              AND idempotency_keys.created_at < now() - make_interval(secs => ${STALE_IN_PROGRESS_SECONDS}))
       RETURNING 1`,
      values: [userId, key, requestHash, claim],
    });
    return rows.length > 0;
  }

  async find(userId: string, key: string): Promise<StoredKey | undefined> {
    const [row] = await this.db.rows<StoredKey & Record<string, unknown>>({
      text: `SELECT request_hash, state, response_status, response_body, response_location
               FROM idempotency_keys WHERE user_id = $1 AND key = $2`,
      values: [userId, key],
    });
    return row;
  }

  /** Stores the response of the request holding the claim; false when the claim was taken over. */
  async complete(
    tx: Transaction,
    claim: KeyClaim,
    response: { status: number; body: unknown; location: string | null },
  ): Promise<boolean> {
    const changed = await tx.affected({
      text: `UPDATE idempotency_keys SET state = 'completed', response_status = $4, response_body = $5, response_location = $6
              WHERE user_id = $1 AND key = $2 AND claim = $3 AND state = 'in_progress'`,
      values: [
        claim.userId,
        claim.key,
        claim.claim,
        response.status,
        JSON.stringify(response.body ?? null),
        response.location,
      ],
    });
    return changed > 0;
  }

  async release(claim: KeyClaim): Promise<void> {
    await this.db.rows({
      text: `DELETE FROM idempotency_keys WHERE user_id = $1 AND key = $2 AND claim = $3 AND state = 'in_progress'`,
      values: [claim.userId, claim.key, claim.claim],
    });
  }

  /** Removes expired keys; how many. */
  async deleteExpired(): Promise<number> {
    const rows = await this.db.rows({ text: 'DELETE FROM idempotency_keys WHERE expires_at <= now() RETURNING 1' });
    return rows.length;
  }
}
