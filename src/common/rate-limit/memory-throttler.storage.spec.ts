import { MEMORY_THROTTLER_MAX_KEYS, MemoryThrottlerStorage } from './memory-throttler.storage';

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

  describe('bounded: at most maxKeys counters, the oldest window forgotten first', () => {
    it('10× the cap of distinct clients within one window: never more than the cap', async () => {
      const bounded = new MemoryThrottlerStorage(100);
      try {
        for (let i = 0; i < 1000; i++) {
          await bounded.increment(`198.18.${i >> 8}.${i & 255}`, 60_000, 5, 0, 'default');
          expect(bounded.size).toBeLessThanOrEqual(100);
        }
        expect(bounded.size).toBe(100);
        // The last 100 are the ones kept: the latest client still has its count.
        expect(await bounded.increment('198.18.3.231', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 2 });
        // The first was forgotten: it starts again from one.
        expect(await bounded.increment('198.18.0.0', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 1 });
      } finally {
        bounded.onApplicationShutdown();
      }
    });

    it('a renewed window goes to the back: a client still counting outlives newer clients whose window began later', async () => {
      const bounded = new MemoryThrottlerStorage(3);
      try {
        await bounded.increment('old', 60_000, 5, 0, 'default');
        now += 30_000;
        await bounded.increment('b', 60_000, 5, 0, 'default');
        now += 30_000; // old's window has ended; it begins a new one, after b's
        await bounded.increment('old', 60_000, 5, 0, 'default');
        await bounded.increment('c', 60_000, 5, 0, 'default');
        await bounded.increment('d', 60_000, 5, 0, 'default'); // over the cap: b, the oldest window, goes
        expect(bounded.size).toBe(3);
        expect(await bounded.increment('old', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 2 });
        expect(await bounded.increment('c', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 2 });
        expect(await bounded.increment('b', 60_000, 5, 0, 'default')).toMatchObject({ totalHits: 1 });
      } finally {
        bounded.onApplicationShutdown();
      }
    });

    it('the default cap holds for the global and the login counters together', async () => {
      const distinct = MEMORY_THROTTLER_MAX_KEYS + 5_000;
      for (let i = 0; i < distinct; i++) {
        if (i % 2)
          await storage.increment(`ip:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 60_000, 30, 60_000, 'login');
        else await storage.increment(`default:10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 60_000, 600, 0, 'default');
      }
      expect(storage.size).toBe(MEMORY_THROTTLER_MAX_KEYS);
    });

    it('the periodic sweep empties it once the windows have ended, without waiting for the cap', async () => {
      jest.useFakeTimers({ now, doNotFake: ['nextTick', 'setImmediate'] });
      try {
        const swept = new MemoryThrottlerStorage();
        for (let i = 0; i < 500; i++) await swept.increment(`k${i}`, 60_000, 5, 0, 'default');
        expect(swept.size).toBe(500);
        jest.restoreAllMocks(); // Date.now from the fake clock from here on
        jest.advanceTimersByTime(120_000);
        expect(swept.size).toBe(0);
        swept.onApplicationShutdown();
      } finally {
        jest.useRealTimers();
      }
    });
  });
});
