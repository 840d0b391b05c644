import type { AppConfig } from '../config/app-config';
import type { Notifications, Subscription } from '../database/notifications';
import { RevocationRegistry } from './revocation-registry';
import type { SessionsRepository } from './sessions.repository';

/** The registry with the database behind it replaced by what it would read and hear. */
describe('RevocationRegistry: revoked sessions are forgotten once no token of theirs can be unexpired', () => {
  const ACCESS_TTL_S = 900;
  const RETENTION_MS = (ACCESS_TTL_S + 60) * 1000;
  let subscription: Subscription | undefined;
  let registry: RevocationRegistry;
  let revokedInDatabase: { id: string; revokedAt: Date }[];

  beforeEach(async () => {
    jest.useFakeTimers({ now: 1_700_000_000_000, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    revokedInDatabase = [];
    const sessions = { revokedWithin: () => Promise.resolve(revokedInDatabase) } as unknown as SessionsRepository;
    const notifications = {
      listen: async (s: Subscription) => {
        subscription = s;
        await s.onListening();
      },
    } as unknown as Notifications;
    const config = { env: { JWT_ACCESS_TTL: ACCESS_TTL_S } } as AppConfig;
    registry = new RevocationRegistry(sessions, notifications, config);
  });

  afterEach(() => {
    registry.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('holds every revocation for the access TTL + a minute, then sweeps it', async () => {
    await registry.onApplicationBootstrap();
    const ids = Array.from({ length: 5_000 }, (_, i) => `session-${i}`);
    for (let i = 0; i < ids.length; i += 200) subscription!.onMessage(ids.slice(i, i + 200).join(','));
    expect(registry.size).toBe(5_000);
    await jest.advanceTimersByTimeAsync(RETENTION_MS - 60_000);
    expect(registry.size).toBe(5_000);
    expect(registry.isRevoked('session-4999')).toBe(true);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(registry.size).toBe(0);
    expect(registry.isRevoked('session-4999')).toBe(false);
  });

  it('a steady stream of revocations: the size stays at what one retention period holds', async () => {
    await registry.onApplicationBootstrap();
    let next = 0;
    // 10 revocations a second for 3 retention periods
    for (let second = 0; second < (3 * RETENTION_MS) / 1000; second++) {
      registry.remember(Array.from({ length: 10 }, () => `s-${next++}`));
      await jest.advanceTimersByTimeAsync(1000);
      // what a period holds, plus at most the minute between two sweeps
      expect(registry.size).toBeLessThanOrEqual(10 * (RETENTION_MS / 1000 + 60));
    }
    expect(registry.size).toBeGreaterThan(10 * (RETENTION_MS / 1000 - 60));
  });

  it('what a reload finds is forgotten on the same schedule, from when it was revoked', async () => {
    revokedInDatabase = [{ id: 'old', revokedAt: new Date(Date.now() - RETENTION_MS + 90_000) }];
    await registry.onApplicationBootstrap();
    expect(registry.isRevoked('old')).toBe(true);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(registry.isRevoked('old')).toBe(false);
  });
});
