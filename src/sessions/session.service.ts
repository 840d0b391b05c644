import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ApiException } from '../common/http/api-exception';
import { RevocationRegistry } from './revocation-registry';

export type RevocationReason = 'logout' | 'reuse' | 'password_change' | 'role_change' | 'account_deleted';

export interface RotatedSession {
  userId: string;
  sessionId: string;
  refreshToken: string;
}

/** The outcome of revoking inside a transaction; `applied` once the transaction committed. */
export class Revocation {
  constructor(readonly sessionIds: string[]) {}
}

const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

/**
 * Sessions and their refresh tokens. A refresh token is 256 random bits, stored as its SHA-256,
 * used once: each use replaces it with the next of its family. Presenting a used token means
 * it was copied, so the whole family is revoked.
 */
@Injectable()
export class SessionService {
  private readonly refreshTtlSeconds: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly revocations: RevocationRegistry,
    config: AppConfig,
  ) {
    this.refreshTtlSeconds = config.env.JWT_REFRESH_TTL;
  }

  /** Starts a session for a user that has just proven who they are. */
  async start(manager: EntityManager, userId: string): Promise<{ sessionId: string; refreshToken: string }> {
    const [family]: { id: string }[] = await manager.query(
      'INSERT INTO session_families (user_id) VALUES ($1) RETURNING id',
      [userId],
    );
    return { sessionId: family.id, refreshToken: await this.issueRefreshToken(manager, family.id) };
  }

  /**
   * Exchanges a refresh token for the next one of its family. `lockAccount` locks the session's
   * user in the same transaction, before anything is written, and says whether the user may still
   * have sessions (undefined: no, the token is refused and nothing changes).
   */
  async rotate<Account>(
    refreshToken: string,
    lockAccount: (manager: EntityManager, userId: string) => Promise<Account | undefined>,
  ): Promise<RotatedSession & { account: Account }> {
    const outcome = await this.dataSource.transaction(async (manager) => {
      const [row]: {
        id: string;
        family_id: string;
        user_id: string;
        used_at: Date | null;
        expired: boolean;
        revoked_at: Date | null;
      }[] = await manager.query(
        `SELECT t.id, t.family_id, f.user_id, t.used_at, t.expires_at <= now() AS expired, f.revoked_at
           FROM refresh_tokens t JOIN session_families f ON f.id = t.family_id
          WHERE t.token_hash = $1
          FOR UPDATE OF t, f`,
        [hashToken(refreshToken)],
      );
      if (!row || row.revoked_at || row.expired) return { rejected: 'Invalid or expired refresh token' } as const;
      if (row.used_at) {
        const revocation = await this.revokeSessions(manager, [row.family_id], 'reuse');
        return { rejected: 'Refresh token already used; the session has been revoked', revocation } as const;
      }
      const account = await lockAccount(manager, row.user_id);
      if (account === undefined) return { rejected: 'Invalid or expired refresh token' } as const;
      await manager.query('UPDATE refresh_tokens SET used_at = now() WHERE id = $1', [row.id]);
      const next = await this.issueRefreshToken(manager, row.family_id);
      return { session: { userId: row.user_id, sessionId: row.family_id, refreshToken: next, account } } as const;
    });
    if ('rejected' in outcome) {
      if (outcome.revocation) this.applied(outcome.revocation);
      throw ApiException.unauthenticated(outcome.rejected);
    }
    return outcome.session;
  }

  /** Revokes the session a refresh token belongs to (logout). Unknown tokens are a 401. */
  async endSession(refreshToken: string): Promise<void> {
    const revocation = await this.dataSource.transaction(async (manager) => {
      const [row]: { family_id: string }[] = await manager.query(
        'SELECT family_id FROM refresh_tokens WHERE token_hash = $1',
        [hashToken(refreshToken)],
      );
      if (!row) return undefined;
      return this.revokeSessions(manager, [row.family_id], 'logout');
    });
    if (!revocation) throw ApiException.unauthenticated('Invalid refresh token');
    this.applied(revocation);
  }

  /** Revokes every live session of a user, in the caller's transaction; call applied() after commit. */
  async revokeAllOfUser(manager: EntityManager, userId: string, reason: RevocationReason): Promise<Revocation> {
    // TypeORM answers an UPDATE with [rows, rowCount], not the rows alone.
    const [rows]: [{ id: string }[], number] = await manager.query(
      `UPDATE session_families SET revoked_at = now(), revoked_reason = $2
        WHERE user_id = $1 AND revoked_at IS NULL RETURNING id`,
      [userId, reason],
    );
    const ids = rows.map((r) => r.id);
    await this.revocations.publish(manager, ids);
    return new Revocation(ids);
  }

  /** Makes a committed revocation effective on this instance at once. */
  applied(revocation: Revocation): void {
    this.revocations.remember(revocation.sessionIds);
  }

  private async revokeSessions(manager: EntityManager, ids: string[], reason: RevocationReason): Promise<Revocation> {
    const [rows]: [{ id: string }[], number] = await manager.query(
      `UPDATE session_families SET revoked_at = now(), revoked_reason = $2
        WHERE id = ANY($1) AND revoked_at IS NULL RETURNING id`,
      [ids, reason],
    );
    const revoked = rows.map((r) => r.id);
    await this.revocations.publish(manager, revoked);
    return new Revocation(revoked);
  }

  private async issueRefreshToken(manager: EntityManager, familyId: string): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    await manager.query(
      `INSERT INTO refresh_tokens (family_id, token_hash, expires_at)
       VALUES ($1, $2, now() + make_interval(secs => $3))`,
      [familyId, hashToken(token), this.refreshTtlSeconds],
    );
    return token;
  }
}
