/**
 * The waits before each retry, in units of WEBHOOK_RETRY_DELAY_SECONDS: with the default 30 s,
 * 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h, 8 h — 11 attempts over about 31.7 hours
 * (the contract asks for at least 24).
 */
export const RETRY_STEPS = [1, 4, 20, 60, 120, 240, 480, 960, 960, 960] as const;

/** Attempts in all: the first and one per step. */
export const MAX_ATTEMPTS = RETRY_STEPS.length + 1;

/** Seconds to wait after failed attempt `attempt` (0 for the first), or null to give up. */
export function retryDelaySeconds(attempt: number, baseSeconds: number): number | null {
  const step = RETRY_STEPS[attempt];
  return step === undefined ? null : step * baseSeconds;
}
