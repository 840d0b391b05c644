import { getStorageToken } from '@nestjs/throttler';
import { randomBytes, randomUUID } from 'node:crypto';
import { MemoryThrottlerStorage } from '../src/common/rate-limit/memory-throttler.storage';
import { createTestApp, TestApp } from './support/test-app';

// What a stream of distinct clients and distinct URLs leaves behind in the process, through the
// real pipeline (TRUST_PROXY=loopback: X-Forwarded-For is the client address): metrics keep one
// series per route template and status, whatever the path; the rate limiter one counter per
// client address, whatever the path; and nothing for a request that matched no route.

const randomIp = () => {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c}`;
};
const randomWord = () => randomBytes(6).toString('hex');

/** The `http_requests_total` series of a scrape, as their label sets. */
async function requestSeries(t: TestApp): Promise<string[]> {
  const res = await t.http().get('/metrics').expect(200);
  return (res.text as string)
    .split('\n')
    .filter((line) => line.startsWith('http_requests_total{'))
    .map((line) => line.slice('http_requests_total'.length, line.lastIndexOf('}') + 1));
}

/** `count` requests, `parallel` at a time, each built by `send`. */
async function inBatches(count: number, parallel: number, send: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, j) => send(i + j)));
  }
}

describe('memory bounds through the HTTP pipeline', () => {
  let t: TestApp;
  let limiter: MemoryThrottlerStorage;

  beforeAll(async () => {
    t = await createTestApp({ env: { TRUST_PROXY: 'loopback' } });
    limiter = t.app.get(getStorageToken());
    expect(limiter).toBeInstanceOf(MemoryThrottlerStorage);
  });
  afterAll(() => t?.close());

  it('2,000 distinct random 404 paths from 2,000 addresses: no new metrics series, no limiter counters', async () => {
    // One of each first, so that the series they make exist before counting.
    await t.http().get(`/api/v1/${randomWord()}`).set('X-Forwarded-For', randomIp()).expect(404);
    await t.http().get(`/${randomWord()}`).set('X-Forwarded-For', randomIp()).expect(404);
    const before = await requestSeries(t);
    const countersBefore = limiter.size;
    const words: string[] = [];
    await inBatches(2_000, 20, async (i) => {
      const word = randomWord();
      words.push(word);
      const path = i % 2 ? `/api/v1/${word}/${randomWord()}?q=${randomWord()}` : `/${word}`;
      await t.http().get(path).set('X-Forwarded-For', randomIp()).expect(404);
    });
    const after = await requestSeries(t);
    // The /metrics scrape itself adds its own series, at most.
    expect(after.filter((series) => !before.includes(series) && !series.includes('route="/metrics"'))).toEqual([]);
    expect(after.some((series) => series.includes('route="unmatched"') && series.includes('status="404"'))).toBe(true);
    const scrape = (await t.http().get('/metrics')).text as string;
    expect(words.filter((word) => scrape.includes(word))).toEqual([]);
    // A request that matches no route never reaches the guards: no counter for its address.
    expect(limiter.size).toBe(countersBefore);
  });

  it('2,000 requests to a route with 2,000 distinct ids from 2,000 addresses: one series, one counter per address', async () => {
    const before = await requestSeries(t);
    const countersBefore = limiter.size;
    const ids: string[] = [];
    await inBatches(2_000, 20, async () => {
      const id = randomUUID();
      ids.push(id);
      // No credentials: the rate limit counts it, authentication refuses it.
      await t.http().get(`/api/v1/tasks/${id}`).set('X-Forwarded-For', randomIp()).expect(401);
    });
    const added = (await requestSeries(t)).filter((series) => !before.includes(series));
    expect(added.filter((series) => !series.includes('route="/metrics"'))).toEqual([
      '{method="GET",route="/api/v1/tasks/:taskId",status="401"}',
    ]);
    const scrape = (await t.http().get('/metrics')).text as string;
    expect(ids.filter((id) => scrape.includes(id))).toEqual([]);
    // One counter per client address (not per path): the cap on distinct addresses is the
    // storage's (memory-throttler.storage.spec.ts); random collisions of addresses aside.
    expect(limiter.size - countersBefore).toBeGreaterThan(1_990);
    expect(limiter.size - countersBefore).toBeLessThanOrEqual(2_000);
  });

  it('login attempts with distinct emails from distinct addresses: three counters each (global, login per address, per address + email)', async () => {
    const countersBefore = limiter.size;
    await inBatches(200, 10, (i) =>
      t
        .http()
        .post('/api/v1/auth/login')
        .set('X-Forwarded-For', `172.16.${i >> 8}.${i & 255}`)
        .send({ email: `nobody-${randomWord()}@example.com`, password: 'wrong password' })
        .expect(401),
    );
    expect(limiter.size - countersBefore).toBe(200 * 3);
  });
});
