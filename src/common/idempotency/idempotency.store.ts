import { HttpStatus, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Transaction } from '../../database/unit-of-work';
import { ApiException } from '../http/api-exception';
import { IdempotencyRepository, KeyClaim } from './idempotency.repository';

const SWEEP_EVERY_MS = 10 * 60_000;

export type Begin =
  | { kind: 'started'; claim: string }
  | { kind: 'in_progress' }
  | { kind: 'mismatch' }
  | { kind: 'replay'; status: number; body: unknown; location: string | null };

/**
 * Idempotency keys in PostgreSQL, so that every instance shares them. A key belongs to one user
 * for 24 hours; expired keys are swept every 10 minutes.
 */
@Injectable()
export class IdempotencyStore implements OnModuleInit, OnApplicationShutdown {
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly keys: IdempotencyRepository) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => void this.sweep().catch(() => undefined), SWEEP_EVERY_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
  }

  /** Claims the key for this request (a claim of its own), or says why it cannot be claimed. */
  async begin(userId: string, key: string, requestHash: string): Promise<Begin> {
    const claim = randomUUID();
    if (await this.keys.claim(userId, key, requestHash, claim)) return { kind: 'started', claim };
    const existing = await this.keys.find(userId, key);
    // Swept between the two statements: try once more.
    if (!existing) return this.begin(userId, key, requestHash);
    if (existing.request_hash !== requestHash) return { kind: 'mismatch' };
    if (existing.state !== 'completed') return { kind: 'in_progress' };
    return {
      kind: 'replay',
      status: existing.response_status!,
      body: existing.response_body,
      location: existing.response_location,
    };
  }

  /**
   * Stores the response of the request holding `claim`, in the transaction that creates the
   * resource, so that the resource and its replayable response commit together or not at all. A
   * claim taken over meanwhile (the request ran past the stale limit) stores nothing and fails
   * the transaction: the other request's result stands.
   */
  async complete(
    tx: Transaction,
    claim: KeyClaim,
    response: { status: number; body: unknown; location: string | null },
  ): Promise<void> {
    if (await this.keys.complete(tx, claim, response)) return;
    throw new ApiException(
      HttpStatus.CONFLICT,
      'IDEMPOTENCY_IN_PROGRESS',
      'Another request with this Idempotency-Key took over; retry to get its response',
      undefined,
      { 'Retry-After': '1' },
    );
  }

  /** The request failed before its transaction committed: nothing was created, so the key is free for a retry. */
  release(claim: KeyClaim): Promise<void> {
    return this.keys.release(claim);
  }

  sweep(): Promise<number> {
    return this.keys.deleteExpired();
  }
}
