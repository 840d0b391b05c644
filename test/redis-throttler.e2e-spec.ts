import { randomBytes } from 'node:crypto';
import { RedisThrottlerStorage } from '../src/common/rate-limit/redis-throttler.storage';

// Needs a real Redis: .ci/run sets TEST_REDIS_URL when one answers on 127.0.0.1:6379.
const redisUrl = process.env.TEST_REDIS_URL;
const describeWithRedis = redisUrl ? describe : describe.skip;

describeWithRedis('RedisThrottlerStorage (shared rate-limit counters)', () => {
  let a: RedisThrottlerStorage;
  let b: RedisThrottlerStorage;

  beforeAll(() => {
    a = new RedisThrottlerStorage(redisUrl!);
    b = new RedisThrottlerStorage(redisUrl!);
  });
  afterAll(async () => {
    await a.onApplicationShutdown();
    await b.onApplicationShutdown();
  });

  it('counts hits across instances and blocks past the limit', async () => {
    const key = `test-${randomBytes(6).toString('hex')}`;
    const first = await a.increment(key, 60_000, 3, 30_000, 'default');
    expect(first).toMatchObject({ totalHits: 1, isBlocked: false, timeToBlockExpire: 0 });
    expect(first.timeToExpire).toBeGreaterThan(55);
    await b.increment(key, 60_000, 3, 30_000, 'default');
    const third = await a.increment(key, 60_000, 3, 30_000, 'default');
    expect(third).toMatchObject({ totalHits: 3, isBlocked: false });
    const fourth = await b.increment(key, 60_000, 3, 30_000, 'default');
    expect(fourth.totalHits).toBe(4);
    expect(fourth.isBlocked).toBe(true);
    expect(fourth.timeToBlockExpire).toBeGreaterThan(25);
    expect(fourth.timeToBlockExpire).toBeLessThanOrEqual(30);
  });

  it('keeps throttlers with different names apart', async () => {
    const key = `test-${randomBytes(6).toString('hex')}`;
    await a.increment(key, 60_000, 1, 60_000, 'login');
    const blocked = await a.increment(key, 60_000, 1, 60_000, 'login');
    const other = await a.increment(key, 60_000, 1, 60_000, 'default');
    expect(blocked.isBlocked).toBe(true);
    expect(other).toMatchObject({ totalHits: 1, isBlocked: false });
  });
});
