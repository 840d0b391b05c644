import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';

/** A refresh token with its session, as a refresh finds it. */
export interface PresentedToken {
  id: string;
  familyId: string;
  userId: string;
  usedAt: Date | null;
  expired: boolean;
  revokedAt: Date | null;
}

/** All SQL for session_families and refresh_tokens, and the revocation notifications. */
@Injectable()
export class SessionsRepository {
  constructor(private readonly db: Database) {}

  /** A new session (refresh-token family) of the user; its id. */
  async insertFamily(tx: Transaction, userId: string): Promise<string> {
    const [row] = await tx.rows<{ id: string }>({
      text: 'INSERT INTO session_families (user_id) VALUES ($1) RETURNING id',
      values: [userId],
    });
    return row.id;
  }

  async insertRefreshToken(tx: Transaction, familyId: string, tokenHash: Buffer, ttlSeconds: number): Promise<void> {
    await tx.affected({
      text: `INSERT INTO refresh_tokens (family_id, token_hash, expires_at)
             VALUES ($1, $2, now() + make_interval(secs => $3))`,
      values: [familyId, tokenHash, ttlSeconds],
    });
  }

  /** The token with this hash and its session, both locked FOR UPDATE until `tx` ends. */
  async lockToken(tx: Transaction, tokenHash: Buffer): Promise<PresentedToken | undefined> {
    const [row] = await tx.rows<PresentedToken>({
      text: `SELECT t.id, t.family_id AS "familyId", f.user_id AS "userId", t.used_at AS "usedAt",
                    t.expires_at <= now() AS expired, f.revoked_at AS "revokedAt"
               FROM refresh_tokens t JOIN session_families f ON f.id = t.family_id
              WHERE t.token_hash = $1
              FOR UPDATE OF t, f`,
      values: [tokenHash],
    });
    return row;
  }

  /** The session the token with this hash belongs to. */
  async familyOf(tx: Transaction, tokenHash: Buffer): Promise<string | undefined> {
    const [row] = await tx.rows<{ family_id: string }>({
      text: 'SELECT family_id FROM refresh_tokens WHERE token_hash = $1',
      values: [tokenHash],
    });
    return row?.family_id;
  }

  async markUsed(tx: Transaction, tokenId: string): Promise<void> {
    await tx.affected({ text: 'UPDATE refresh_tokens SET used_at = now() WHERE id = $1', values: [tokenId] });
  }

  /** Revokes those of the sessions still live; the ids of those it revoked. */
  async revokeFamilies(tx: Transaction, familyIds: string[], reason: string): Promise<string[]> {
    const rows = await tx.rows<{ id: string }>({
      text: `UPDATE session_families SET revoked_at = now(), revoked_reason = $2
              WHERE id = ANY($1) AND revoked_at IS NULL RETURNING id`,
      values: [familyIds, reason],
    });
    return rows.map((r) => r.id);
  }

  /** Revokes every live session of the user; the ids of those it revoked. */
  async revokeAllOfUser(tx: Transaction, userId: string, reason: string): Promise<string[]> {
    const rows = await tx.rows<{ id: string }>({
      text: `UPDATE session_families SET revoked_at = now(), revoked_reason = $2
              WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
      values: [userId, reason],
    });
    return rows.map((r) => r.id);
  }

  /** Sessions revoked within the last `seconds`, with when. */
  revokedWithin(seconds: number): Promise<{ id: string; revokedAt: Date }[]> {
    return this.db.rows<{ id: string; revokedAt: Date }>({
      text: `SELECT id, revoked_at AS "revokedAt" FROM session_families WHERE revoked_at > now() - make_interval(secs => $1)`,
      values: [seconds],
    });
  }
}
