import { Injectable } from '@nestjs/common';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import type { RevocationReason } from './revocation-reason';

/** A refresh token with its session, as a refresh finds it. */
export interface PresentedToken {
  id: string;
  familyId: string;
  userId: string;
  usedAt: Date | null;
  expired: boolean;
  revokedAt: Date | null;
}

/** A live session as its owner sees it. */
export interface ActiveSession {
  id: string;
  createdAt: Date;
  lastUsedAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/**
 * A session is active while it is not revoked and its newest refresh token is neither used nor
 * expired (a session whose refresh token has expired is over: nothing can continue it).
 */
const ACTIVE = `f.revoked_at IS NULL AND EXISTS (
  SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.used_at IS NULL AND t.expires_at > now())`;

/** All SQL for session_families and refresh_tokens, and the revocation notifications. */
@Injectable()
export class SessionsRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  /** A new session (refresh-token family) of the user, used now; its id. */
  async insertFamily(tx: Transaction, userId: string, userAgent: string | null, ip: string | null): Promise<string> {
    const [row] = await tx.rows<{ id: string }>({
      text: `INSERT INTO session_families (user_id, user_agent, ip, last_used_at)
             VALUES ($1, $2, $3, now()) RETURNING id`,
      values: [userId, userAgent, ip],
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

  /** Spends the token; its session is used now (one statement: the refresh writes both rows anyway). */
  async markUsed(tx: Transaction, tokenId: string): Promise<void> {
    await tx.affected({
      text: `WITH spent AS (UPDATE refresh_tokens SET used_at = now() WHERE id = $1 RETURNING family_id)
             UPDATE session_families f SET last_used_at = GREATEST(f.last_used_at, now())
               FROM spent WHERE f.id = spent.family_id`,
      values: [tokenId],
    });
  }

  /** A page of the user's active sessions. */
  activeOfUser<Item>(userId: string, page: KeysetPage<ActiveSession, Item>): Promise<Page<Item>> {
    const select = `SELECT f.id, f.created_at AS "createdAt", COALESCE(f.last_used_at, f.created_at) AS "lastUsedAt",
                           f.user_agent AS "userAgent", f.ip
                      FROM session_families f`;
    return this.paginator.pageOfStatement(page, { select, where: ['f.user_id = $1', ACTIVE], values: [userId] }, (s) =>
      this.db.rows<ActiveSession>(s),
    );
  }

  /** Revokes the session if it is an active one of the user; whether it was. */
  async revokeActiveOfUser(
    tx: Transaction,
    userId: string,
    sessionId: string,
    reason: RevocationReason,
  ): Promise<boolean> {
    const rows = await tx.rows<{ id: string }>({
      text: `UPDATE session_families f SET revoked_at = now(), revoked_reason = $3
              WHERE f.id = $1 AND f.user_id = $2 AND ${ACTIVE} RETURNING f.id`,
      values: [sessionId, userId, reason],
    });
    return rows.length > 0;
  }

  /** Records when sessions were last used, in one statement, never moving a time backwards. */
  async recordUse(tx: Transaction, sessionIds: string[], usedAt: Date[]): Promise<void> {
    await tx.affected({
      text: `UPDATE session_families f SET last_used_at = u.used_at
               FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, used_at)
              WHERE f.id = u.id AND (f.last_used_at IS NULL OR f.last_used_at < u.used_at)`,
      values: [sessionIds, usedAt.map((at) => at.toISOString())],
    });
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
