import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';

/** All SQL for password_reset_tokens. */
@Injectable()
export class PasswordResetsRepository {
  constructor(private readonly db: Database) {}

  async insert(
    tx: Transaction,
    token: { userId: string; sentTo: string; tokenHash: Buffer; ttlSeconds: number },
  ): Promise<void> {
    await tx.affected({
      text: `INSERT INTO password_reset_tokens (user_id, sent_to, token_hash, expires_at)
             VALUES ($1, $2, $3, now() + make_interval(secs => $4))`,
      values: [token.userId, token.sentTo, token.tokenHash, token.ttlSeconds],
    });
  }

  /** The user of an unused, unexpired token, and where it was sent; locked FOR UPDATE when in `tx`. */
  async validToken(tokenHash: Buffer, tx?: Transaction): Promise<{ userId: string; sentTo: string } | undefined> {
    const statement = {
      text: `SELECT user_id AS "userId", sent_to AS "sentTo" FROM password_reset_tokens
              WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now()${tx ? ' FOR UPDATE' : ''}`,
      values: [tokenHash],
    };
    type Row = { userId: string; sentTo: string };
    const [row] = tx ? await tx.rows<Row>(statement) : await this.db.rows<Row>(statement);
    return row;
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
