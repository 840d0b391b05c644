import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { Notifications } from '../database/notifications';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { LastUseBuffer } from '../sessions/last-use-buffer';
import { ApiKeyToken } from './api-key-token';
import { ApiKeyCredential, ApiKeysRepository } from './api-keys.repository';

/** Also NOTIFYed by the api_keys_announce_deleted trigger, for keys that go with their org. */
const CHANNEL = 'tasklane_api_keys_revoked';
/** How long a key checked against the database is trusted from memory (revocations arrive sooner, by notification). */
export const API_KEY_CACHE_TTL_MS = 5 * 60_000;
/** Keys remembered at once; the least recently loaded go first. */
export const API_KEY_CACHE_MAX_ENTRIES = 10_000;
/** How often key use reaches `api_keys.last_used_at`. */
export const API_KEY_ACTIVITY_FLUSH_MS = 30_000;

type ApiKeyPrincipal = Extract<Principal, { kind: 'apiKey' }>;

/**
 * Checks `Authorization: Bearer tl_…` API keys without a database round trip per request: a key
 * is read once (by its prefix) and then trusted from memory for API_KEY_CACHE_TTL_MS; its secret
 * is compared with the stored SHA-256 on every request. A revocation is NOTIFYed in the
 * transaction that revokes, and every instance forgets the key as soon as it commits; after a
 * (re)connection of the listener the cache is emptied, so that nothing missed meanwhile is
 * trusted. Use is noted in memory and written every API_KEY_ACTIVITY_FLUSH_MS (lastUsedAt).
 */
@Injectable()
export class ApiKeyAuthenticator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ApiKeyAuthenticator.name);
  /** prefix → the key as read, and when */
  private readonly cache = new Map<string, { credential: ApiKeyCredential; loadedAt: number }>();
  /** prefix → a read in progress (concurrent first uses of one key share it) */
  private readonly loading = new Map<string, Promise<ApiKeyCredential | undefined>>();
  /** ids revoked lately → when to forget: also refuses a key whose read began before the revocation */
  private readonly revoked = new Map<string, number>();
  private readonly uses = new LastUseBuffer();
  private flushTimer?: NodeJS.Timeout;

  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly notifications: Notifications,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.notifications.listen({
      channel: CHANNEL,
      onMessage: (payload) => this.forget(payload.split(',')),
      onListening: async () => {
        // Anything may have been revoked while nobody listened: read every key afresh.
        this.cache.clear();
        this.forget(await this.keys.revokedWithin((2 * API_KEY_CACHE_TTL_MS) / 1000));
      },
    });
    this.flushTimer = setInterval(() => {
      this.prune();
      void this.flushQuietly();
    }, API_KEY_ACTIVITY_FLUSH_MS).unref();
  }

  // Before shutdown: the database pool closes in onApplicationShutdown.
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.flushTimer);
    await this.flushQuietly();
  }

  /** The principal a presented key stands for; 401 unless it is a live key with this secret. */
  async verify(token: string): Promise<ApiKeyPrincipal> {
    const presented = ApiKeyToken.parse(token);
    if (!presented) throw ApiException.unauthenticated('Malformed API key');
    const key = await this.credential(presented.prefix);
    if (!key || !timingSafeEqual(key.secretHash, presented.secretHash)) {
      throw ApiException.unauthenticated('Invalid API key');
    }
    if (key.revokedAt || this.revoked.has(key.id)) throw ApiException.unauthenticated('API key revoked');
    if (key.expiresAt && key.expiresAt.getTime() <= Date.now()) throw ApiException.unauthenticated('API key expired');
    this.uses.touch(key.id);
    return { kind: 'apiKey', id: key.id, orgId: key.orgId, role: key.role };
  }

  /** Tells every instance (this one included) that the key is revoked, once `tx` commits. */
  async publishRevocation(tx: Transaction, apiKeyId: string): Promise<void> {
    await this.notifications.notify(tx, CHANNEL, apiKeyId);
    tx.afterCommit(() => this.forget([apiKeyId]));
  }

  /** This instance's latest use of the key that may not be in the database yet. */
  lastUse(apiKeyId: string): Date | undefined {
    return this.uses.lastUse(apiKeyId);
  }

  /** Writes the uses noted so far (the timer and shutdown call it; tests may too). */
  flush(): Promise<void> {
    return this.uses.flush((ids, usedAt) => this.unitOfWork.run((tx) => this.keys.recordUse(tx, ids, usedAt)));
  }

  private async credential(prefix: string): Promise<ApiKeyCredential | undefined> {
    const cached = this.cache.get(prefix);
    if (cached && Date.now() - cached.loadedAt < API_KEY_CACHE_TTL_MS) return cached.credential;
    let load = this.loading.get(prefix);
    if (!load) {
      load = this.keys.credential(prefix).finally(() => this.loading.delete(prefix));
      this.loading.set(prefix, load);
    }
    const credential = await load;
    if (credential) this.remember(prefix, credential);
    return credential;
  }

  private remember(prefix: string, credential: ApiKeyCredential): void {
    this.cache.delete(prefix);
    if (this.cache.size >= API_KEY_CACHE_MAX_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(prefix, { credential, loadedAt: Date.now() });
  }

  private forget(apiKeyIds: Iterable<string>): void {
    const forgetAt = Date.now() + 2 * API_KEY_CACHE_TTL_MS;
    for (const id of apiKeyIds) this.revoked.set(id, forgetAt);
  }

  /** Revocations old enough to forget, and keys read too long ago to be trusted (never served again). */
  private prune(): void {
    const now = Date.now();
    for (const [id, forgetAt] of this.revoked) if (forgetAt <= now) this.revoked.delete(id);
    for (const [prefix, { loadedAt }] of this.cache)
      if (now - loadedAt >= API_KEY_CACHE_TTL_MS) this.cache.delete(prefix);
  }

  /** What is held in memory, for tests. */
  get sizes(): { cached: number; loading: number; revoked: number; uses: number } {
    return { cached: this.cache.size, loading: this.loading.size, revoked: this.revoked.size, uses: this.uses.size };
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (error) {
      // Kept for the next flush.
      this.logger.warn(`Could not record API key use: ${(error as Error).message}`);
    }
  }
}
