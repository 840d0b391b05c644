import { OnApplicationShutdown } from '@nestjs/common';
import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Counter {
  hits: number;
  /** End of the current window (epoch ms). */
  expiresAt: number;
  /** End of the block, 0 when not blocked (epoch ms). */
  blockedUntil: number;
}

const SWEEP_INTERVAL_MS = 60_000;
/**
 * Counters held at most (~200 bytes each, more with a long email in a login key): past it, the
 * counter whose window began first is forgotten, so that many distinct clients cannot grow the
 * process between two sweeps. A deployment with that many clients per instance wants REDIS_URL.
 */
export const MEMORY_THROTTLER_MAX_KEYS = 100_000;

/**
 * Rate-limit counters in this process (no REDIS_URL): a fixed window per key, and a block of
 * blockDuration once a hit goes over the limit, which is exactly what RedisThrottlerStorage's
 * script does, so that one instance and several behave alike. Each hit costs a map lookup,
 * whatever the limit: @nestjs/throttler's default storage keeps one timestamp per hit and
 * filters them all on every request, which is O(limit) per request and, with a generous limit,
 * the most expensive step of a request. The map is kept in the order in which the windows began
 * (a renewed window moves to the end), so that when MEMORY_THROTTLER_MAX_KEYS are held the first
 * entry is the one to forget: the oldest window, whose count matters least.
 */
export class MemoryThrottlerStorage implements ThrottlerStorage, OnApplicationShutdown {
  private readonly counters = new Map<string, Counter>();
  private sweeper?: NodeJS.Timeout;

  constructor(private readonly maxKeys = MEMORY_THROTTLER_MAX_KEYS) {}

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerStorageRecord> {
    const now = Date.now();
    const name = `${throttlerName}:${key}`;
    let counter = this.counters.get(name);
    if (!counter) {
      if (this.counters.size >= this.maxKeys) this.counters.delete(this.counters.keys().next().value!);
      counter = { hits: 0, expiresAt: now + ttl, blockedUntil: 0 };
      this.counters.set(name, counter);
      this.sweeper ??= setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();
    } else if (counter.expiresAt <= now) {
      counter.hits = 0;
      counter.expiresAt = now + ttl;
      // A new window: to the end of the map, behind every window that began earlier.
      this.counters.delete(name);
      this.counters.set(name, counter);
    }
    const hits = ++counter.hits;
    if (counter.blockedUntil <= now && hits > limit) counter.blockedUntil = now + (blockDuration || ttl);
    const blockedMs = counter.blockedUntil - now;
    const isBlocked = blockedMs > 0;
    return Promise.resolve({
      totalHits: hits,
      timeToExpire: Math.max(0, Math.ceil((counter.expiresAt - now) / 1000)),
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil(blockedMs / 1000) : 0,
    });
  }

  /** Forgets counters whose window and block have both ended. */
  sweep(now = Date.now()): void {
    for (const [name, counter] of this.counters) {
      if (counter.expiresAt <= now && counter.blockedUntil <= now) this.counters.delete(name);
    }
  }

  /** Counters held, for tests. */
  get size(): number {
    return this.counters.size;
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweeper);
    this.counters.clear();
  }
}
