import { retentionSeconds, retryLimitToSpan, retrySpanSeconds, retryWaitSeconds } from './job-queue';

const DAY = 86400;

describe('the retry policy of a job kind', () => {
  it('follows pg-boss 10’s backoff: wait n between retryDelay × 2ⁿ and twice that, the exponent at most 16', () => {
    const policy = { retryDelaySeconds: 10 };
    expect([0, 1, 2, 9].map((n) => retryWaitSeconds(policy, n))).toEqual([
      { min: 10, max: 20 },
      { min: 20, max: 40 },
      { min: 40, max: 80 },
      { min: 5120, max: 10240 },
    ]);
    // unbounded, the waits grow to days: what retryDelayMaxSeconds is for
    expect(retryWaitSeconds(policy, 15)).toEqual({ min: 10 * 2 ** 15, max: 10 * 2 ** 16 });
    expect(retryWaitSeconds(policy, 40)).toEqual(retryWaitSeconds(policy, 15));
    // the former mail policy, 10 retries: 2.8 to 5.7 hours
    expect(retrySpanSeconds({ ...policy, retryLimit: 10 })).toEqual({ min: 10_230, max: 20_460 });
  });

  it('with retryDelayMaxSeconds, doubles the wait until it could exceed the bound, then waits the bound', () => {
    const policy = { retryDelaySeconds: 10, retryDelayMaxSeconds: 3600 };
    const waits = Array.from({ length: 12 }, (_, n) => retryWaitSeconds(policy, n));
    expect(waits.map((w) => w.min)).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 3600, 3600, 3600, 3600]);
    expect(waits.map((w) => w.max)).toEqual([20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600, 3600, 3600]);
    // a first delay at the bound: fixed waits from the start
    expect(retryWaitSeconds({ retryDelaySeconds: 3600, retryDelayMaxSeconds: 3600 }, 0)).toEqual({
      min: 3600,
      max: 3600,
    });
  });

  it('takes the fewest retries whose waits add up to the span, however the random part falls', () => {
    for (const retryDelaySeconds of [1, 10, 60, 3600]) {
      const policy = { retryDelaySeconds, retryDelayMaxSeconds: 3600 };
      const retryLimit = retryLimitToSpan(7 * DAY, policy);
      expect(retrySpanSeconds({ ...policy, retryLimit }).min).toBeGreaterThanOrEqual(7 * DAY);
      expect(retrySpanSeconds({ ...policy, retryLimit: retryLimit - 1 }).min).toBeLessThan(7 * DAY);
    }
    expect(retryLimitToSpan(7 * DAY, { retryDelaySeconds: 10, retryDelayMaxSeconds: 3600 })).toBe(176);
  });

  it('keeps a job waiting at least 14 days (pg-boss’s default), longer when its retries may take longer', () => {
    expect(retentionSeconds({ retryLimit: 5, retryDelaySeconds: 5, timeoutSeconds: 60 })).toBe(14 * DAY);
    const long = { retryLimit: 12, retryDelaySeconds: 300, timeoutSeconds: 30 };
    expect(retentionSeconds(long)).toBeGreaterThan(retrySpanSeconds(long).max + 13 * 30);
    expect(retentionSeconds(long)).toBeGreaterThan(14 * DAY);
  });
});
