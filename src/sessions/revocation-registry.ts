import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';
import type { Transaction } from '../database/unit-of-work';
import { SessionsRepository } from './sessions.repository';

const CHANNEL = 'tasklane_sessions_revoked';
// NOTIFY payloads are limited to 8000 bytes; 36-character ids plus commas fit 200 a message.
const IDS_PER_NOTIFICATION = 200;
const RECONNECT_DELAY_MS = 1000;

/**
 * Which sessions have been revoked recently, held in memory so that checking an access token
 * costs no database query. Every instance LISTENs on one PostgreSQL channel; a revocation is
 * NOTIFYed in the transaction that revokes, so every instance hears of it as soon as it commits.
 * Entries are kept for as long as an access token of that session could still be unexpired.
 * After a (re)connection the list is reloaded from the database, so nothing is missed. The
 * listener is a connection of its own (LISTEN holds it), not one of the pool's.
 */
@Injectable()
export class RevocationRegistry implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RevocationRegistry.name);
  /** session id → when it can be forgotten (ms since epoch) */
  private readonly revoked = new Map<string, number>();
  private readonly retentionMs: number;
  private client?: Client;
  private closed = false;
  private pruneTimer?: NodeJS.Timeout;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly config: AppConfig,
  ) {
    // An access token lives JWT_ACCESS_TTL; a minute more covers clock skew between instances.
    this.retentionMs = (config.env.JWT_ACCESS_TTL + 60) * 1000;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listen();
    this.pruneTimer = setInterval(() => this.prune(), 60_000).unref();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.pruneTimer);
    clearTimeout(this.reconnectTimer);
    await this.client?.end().catch(() => undefined);
  }

  isRevoked(sessionId: string): boolean {
    return this.revoked.has(sessionId);
  }

  /** Tells every instance (this one included), when `tx` commits. */
  async publish(tx: Transaction, sessionIds: string[]): Promise<void> {
    for (let i = 0; i < sessionIds.length; i += IDS_PER_NOTIFICATION) {
      await this.sessions.notify(tx, CHANNEL, sessionIds.slice(i, i + IDS_PER_NOTIFICATION).join(','));
    }
  }

  /** Applies a committed revocation here at once, without waiting for the notification. */
  remember(sessionIds: Iterable<string>, forgetAt = Date.now() + this.retentionMs): void {
    for (const id of sessionIds) this.revoked.set(id, forgetAt);
  }

  private async listen(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'tasklane-revocations' });
    client.on('notification', (message) => {
      if (message.channel === CHANNEL && message.payload) this.remember(message.payload.split(','));
    });
    client.on('error', (error) => this.logger.warn(`Revocation listener error: ${error.message}`));
    client.on('end', () => this.scheduleReconnect());
    this.client = client;
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    await this.reload();
  }

  private scheduleReconnect(): void {
    if (this.closed) return;
    this.logger.warn('Revocation listener disconnected; reconnecting');
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.listen().catch((error: Error) => {
        this.logger.warn(`Revocation listener could not reconnect: ${error.message}`);
        this.scheduleReconnect();
      });
    }, RECONNECT_DELAY_MS).unref();
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
