import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';

/** All SQL for password_reset_tokens. */
@Injectable()
export class PasswordResetsRepository {
  constructor(private readonly db: Database) {}

  async insert(tx: Transaction, userId: string, tokenHash: Buffer, ttlSeconds: number): Promise<void> {
    await tx.affected({
      text: `INSERT INTO password_reset_tokens (user_id, token_hash, expires_at)
             VALUES ($1, $2, now() + make_interval(secs => $3))`,
      values: [userId, tokenHash, ttlSeconds],
    });
  }

  /** The user of an unused, unexpired token; locked FOR UPDATE when in `tx`. */
  async userOfValidToken(tokenHash: Buffer, tx?: Transaction): Promise<string | undefined> {
    const statement = {
      text: `SELECT user_id FROM password_reset_tokens
              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()${tx ? ' FOR UPDATE' : ''}`,
      values: [tokenHash],
    };
    const [row] = tx
      ? await tx.rows<{ user_id: string }>(statement)
      : await this.db.rows<{ user_id: string }>(statement);
    return row?.user_id;
  }

  /** How many reset links the user was sent in the last hour (two jobs at once may both pass: a cap, not a count). */
  async issuedWithinHour(tx: Transaction, userId: string): Promise<number> {
    const rows = await tx.rows<{ id: string }>({
      text: `SELECT id FROM password_reset_tokens WHERE user_id = $1 AND created_at > now() - interval '1 hour'`,
      values: [userId],
    });
    return rows.length;
  }

  /** Spends every outstanding token of the user: one reset, or a password change, ends them all. */
  async spendAllOf(tx: Transaction, userId: string): Promise<void> {
    await tx.affected({
      text: 'UPDATE password_reset_tokens SET used_at = now() WHERE user_id = $1 AND used_at IS NULL',
      values: [userId],
    });
  }
}
