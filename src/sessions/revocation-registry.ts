import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Notifications } from '../database/notifications';
import type { Transaction } from '../database/unit-of-work';
import { SessionsRepository } from './sessions.repository';

const CHANNEL = 'tasklane_sessions_revoked';
// NOTIFY payloads are limited to 8000 bytes; 36-character ids plus commas fit 200 a message.
const IDS_PER_NOTIFICATION = 200;

/**
 * Which sessions have been revoked recently, held in memory so that checking an access token
 * costs no database query. Every instance LISTENs on one PostgreSQL channel; a revocation is
 * NOTIFYed in the transaction that revokes, so every instance hears of it as soon as it commits.
 * Entries are kept for as long as an access token of that session could still be unexpired.
 * After a (re)connection the list is reloaded from the database, so nothing is missed.
 * Bounded by time, not by a count: an entry evicted early would let a revoked session's tokens in
 * again, so there is no cap; its size is the sessions revoked within JWT_ACCESS_TTL + 60 s (each
 * made by a sign-in, which argon2id and the login limits keep slow), swept every minute.
 */
@Injectable()
export class RevocationRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  /** session id → when it can be forgotten (ms since epoch) */
  private readonly revoked = new Map<string, number>();
  private readonly retentionMs: number;
  private pruneTimer?: NodeJS.Timeout;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly notifications: Notifications,
    config: AppConfig,
  ) {
    // An access token lives JWT_ACCESS_TTL; a minute more covers clock skew between instances.
    this.retentionMs = (config.env.JWT_ACCESS_TTL + 60) * 1000;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.notifications.listen({
      channel: CHANNEL,
      onMessage: (payload) => this.remember(payload.split(',')),
      onListening: () => this.reload(),
    });
    this.pruneTimer = setInterval(() => this.prune(), 60_000).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.pruneTimer);
  }

  /** Sessions remembered as revoked, for tests. */
  get size(): number {
    return this.revoked.size;
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Tells every instance (this one included), when `tx` commits. */
  async publish(tx: Transaction, sessionIds: string[]): Promise<void> {
    for (let i = 0; i < sessionIds.length; i += IDS_PER_NOTIFICATION) {
      await this.notifications.notify(tx, CHANNEL, sessionIds.slice(i, i + IDS_PER_NOTIFICATION).join(','));
    }
  }

  /** Applies a committed revocation here at once, without waiting for the notification. */
  remember(sessionIds: Iterable<string>, forgetAt = Date.now() + this.retentionMs): void {
    for (const id of sessionIds) this.revoked.set(id, forgetAt);
  }

  private async reload(): Promise<void> {
    const rows = await this.sessions.revokedWithin(this.retentionMs / 1000);
    for (const row of rows) this.remember([row.id], row.revokedAt.getTime() + this.retentionMs);
  }

  private prune(): void {
    const now = Date.now();
    for (const [id, forgetAt] of this.revoked) if (forgetAt <= now) this.revoked.delete(id);
  }
}
