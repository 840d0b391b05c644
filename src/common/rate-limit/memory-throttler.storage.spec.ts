import { MemoryThrottlerStorage } from './memory-throttler.storage';

describe('MemoryThrottlerStorage (fixed window, as the Redis storage)', () => {
  let storage: MemoryThrottlerStorage;
  let now: number;

  beforeEach(() => {
    storage = new MemoryThrottlerStorage();
    now = 1_700_000_000_000;
    jest.spyOn(Date, 'now').mockImplementation(() => now);
  });
  afterEach(() => {
    storage.onApplicationShutdown();
    jest.restoreAllMocks();
  });

  it('counts hits and blocks for blockDuration once past the limit', async () => {
    const first = await storage.increment('ip', 60_000, 3, 30_000, 'default');
    expect(first).toEqual({ totalHits: 1, timeToExpire: 60, isBlocked: false, timeToBlockExpire: 0 });
    await storage.increment('ip', 60_000, 3, 30_000, 'default');
    now += 10_000;
    expect(await storage.increment('ip', 60_000, 3, 30_000, 'default')).toEqual({
      totalHits: 3,
      timeToExpire: 50,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    expect(await storage.increment('ip', 60_000, 3, 30_000, 'default')).toEqual({
      totalHits: 4,
      timeToExpire: 50,
      isBlocked: true,
      timeToBlockExpire: 30,
    });
    now += 20_000;
    // still blocked: the block is not extended by further hits
    expect(await storage.increment('ip', 60_000, 3, 30_000, 'default')).toMatchObject({
      totalHits: 5,
      isBlocked: true,
      timeToBlockExpire: 10,
    });
  });

  it('starts a new window when the old one has ended, and the block too', async () => {
    for (let i = 0; i < 2; i++) await storage.increment('ip', 60_000, 1, 60_000, 'login');
    now += 60_000;
    expect(await storage.increment('ip', 60_000, 1, 60_000, 'login')).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('a block without blockDuration lasts the window', async () => {
    await storage.increment('ip', 60_000, 1, 0, 'default');
    expect(await storage.increment('ip', 60_000, 1, 0, 'default')).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 60,
    });
  });

  it('keeps throttlers with different names apart', async () => {
    await storage.increment('k', 60_000, 1, 60_000, 'login');
    const blocked = await storage.increment('k', 60_000, 1, 60_000, 'login');
    const other = await storage.increment('k', 60_000, 1, 60_000, 'default');
    expect(blocked.isBlocked).toBe(true);
    expect(other).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('forgets counters whose window and block have ended', async () => {
    await storage.increment('a', 60_000, 1, 0, 'default');
    await storage.increment('b', 60_000, 1, 0, 'default');
    await storage.increment('b', 60_000, 1, 120_000, 'default'); // blocked for two minutes
    now += 60_000;
    storage.sweep();
    expect(storage.size).toBe(1);
    now += 60_000;
    storage.sweep();
    expect(storage.size).toBe(0);
  });
});
