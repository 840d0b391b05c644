import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ApiException } from '../common/http/api-exception';
import type { AuthUser } from '../common/auth/auth-user';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { RevocationRegistry } from './revocation-registry';
import { SessionActivity } from './session-activity';
import { SessionResponse } from './session.response';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import type { ListQuery } from '../common/pagination/list.query';
import type { Page } from '../common/pagination/page';
import type { RevocationReason } from './revocation-reason';
import { SessionsRepository } from './sessions.repository';
import type { SignInClient } from './sign-in-client';
import { BearerSecret } from '../common/auth/bearer-secret';

export type { RevocationReason } from './revocation-reason';

/** What is kept of a sign-in's User-Agent header and address (they are the client's to choose). */
const USER_AGENT_MAX_LENGTH = 512;
const IP_MAX_LENGTH = 64;

export interface RotatedSession {
  userId: string;
  sessionId: string;
  refreshToken: string;
}

/**
 * Sessions and their refresh tokens. A refresh token is 256 random bits, stored as its SHA-256,
 * used once: each use replaces it with the next of its family. Presenting a used token means
 * it was copied, so the whole family is revoked.
 *
 * A revocation is announced in the transaction that revokes (NOTIFY, heard by every instance
 * when it commits) and applied on this instance by an after-commit effect of that transaction,
 * so that it takes effect here at once, and never for a revocation that rolled back.
 */
@Injectable()
export class SessionService {
  private readonly refreshTtlSeconds: number;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly revocations: RevocationRegistry,
    private readonly unitOfWork: UnitOfWork,
    private readonly activity: SessionActivity,
    config: AppConfig,
  ) {
    this.refreshTtlSeconds = config.env.JWT_REFRESH_TTL;
  }

  /**
   * Starts a session, in `tx`, for a user that has just proven who they are, remembering where
   * from: the user agent and address stay those of the sign-in for the whole session.
   */
  async start(
    tx: Transaction,
    userId: string,
    client: SignInClient,
  ): Promise<{ sessionId: string; refreshToken: string }> {
    const userAgent = client.userAgent?.slice(0, USER_AGENT_MAX_LENGTH) || null;
    const ip = client.ip?.slice(0, IP_MAX_LENGTH) || null;
    const sessionId = await this.sessions.insertFamily(tx, userId, userAgent, ip);
    return { sessionId, refreshToken: await this.issueRefreshToken(tx, sessionId) };
  }

  /** A page of the caller's active sessions, newest first, with this instance's not yet recorded use. */
  listOwn(caller: AuthUser, query: ListQuery): Promise<Page<SessionResponse>> {
    return this.sessions.activeOfUser(
      caller.id,
      inCreationOrder(
        'f',
        listScope('sessions', { userId: caller.id }),
        'DESC',
        (s) => SessionResponse.from(s, caller.sessionId, this.activity.lastUse(s.id)),
        query,
      ),
    );
  }

  /**
   * Ends one of the caller's active sessions (the current one too). Another user's session, or
   * one already over, is a 404: whether it exists is not the caller's business.
   */
  async revokeOwn(caller: AuthUser, sessionId: string): Promise<void> {
    const revoked = await this.unitOfWork.run(async (tx) => {
      if (!(await this.sessions.revokeActiveOfUser(tx, caller.id, sessionId, 'session_revoked'))) return false;
      await this.announce(tx, [sessionId]);
      return true;
    });
    if (!revoked) throw ApiException.notFound('Session');
  }

  /** Ends every session of the caller, this one included. */
  async revokeAllOwn(caller: AuthUser): Promise<void> {
    await this.unitOfWork.run((tx) => this.revokeAllOfUser(tx, caller.id, 'logout_all'));
  }

  /**
   * Exchanges a refresh token for the next one of its family. `lockAccount` locks the session's
   * user in the same transaction, before anything is written, and says whether the user may still
   * have sessions (undefined: no, the token is refused and nothing changes).
   */
  async rotate<Account>(
    refreshToken: string,
    lockAccount: (tx: Transaction, userId: string) => Promise<Account | undefined>,
  ): Promise<RotatedSession & { account: Account }> {
    // A refused token is thrown after the transaction: a reuse's revocation must commit.
    const outcome = await this.unitOfWork.run(async (tx) => {
      const token = await this.sessions.lockToken(tx, BearerSecret.hash(refreshToken));
      if (!token || token.revokedAt || token.expired) return { rejected: 'Invalid or expired refresh token' } as const;
      if (token.usedAt) {
        await this.revoke(tx, [token.familyId], 'reuse');
        return { rejected: 'Refresh token already used; the session has been revoked' } as const;
      }
      const account = await lockAccount(tx, token.userId);
      if (account === undefined) return { rejected: 'Invalid or expired refresh token' } as const;
      await this.sessions.markUsed(tx, token.id);
      const next = await this.issueRefreshToken(tx, token.familyId);
      return { session: { userId: token.userId, sessionId: token.familyId, refreshToken: next, account } } as const;
    });
    if ('rejected' in outcome) throw ApiException.unauthenticated(outcome.rejected);
    return outcome.session;
  }

  /** Revokes the session a refresh token belongs to (logout). Unknown tokens are a 401. */
  async endSession(refreshToken: string): Promise<void> {
    const known = await this.unitOfWork.run(async (tx) => {
      const familyId = await this.sessions.familyOf(tx, BearerSecret.hash(refreshToken));
      if (!familyId) return false;
      await this.revoke(tx, [familyId], 'logout');
      return true;
    });
    if (!known) throw ApiException.unauthenticated('Invalid refresh token');
  }

  /** Revokes every live session of a user in `tx`, effective everywhere once it commits. */
  async revokeAllOfUser(tx: Transaction, userId: string, reason: RevocationReason): Promise<void> {
    await this.announce(tx, await this.sessions.revokeAllOfUser(tx, userId, reason));
  }

  private async revoke(tx: Transaction, familyIds: string[], reason: RevocationReason): Promise<void> {
    await this.announce(tx, await this.sessions.revokeFamilies(tx, familyIds, reason));
  }

  /** Every instance hears of it by NOTIFY when `tx` commits; this one applies it at once then. */
  private async announce(tx: Transaction, sessionIds: string[]): Promise<void> {
    await this.revocations.publish(tx, sessionIds);
    tx.afterCommit(() => this.revocations.remember(sessionIds));
  }

  private async issueRefreshToken(tx: Transaction, familyId: string): Promise<string> {
    const token = BearerSecret.generate();
    await this.sessions.insertRefreshToken(tx, familyId, BearerSecret.hash(token), this.refreshTtlSeconds);
    return token;
  }
}
