import type { AppConfig } from '../config/app-config';
import { JobKind, JobQueue, retentionSeconds, retrySpanSeconds, retryWaitSeconds } from '../jobs/job-queue';
import type { MailMessage } from './mail-message';
import { MAIL_RETRY_DELAY_MAX_SECONDS, MAIL_RETRY_SPAN_SECONDS, Mailer } from './mailer';
import type { MailTransport } from './mail-transport';

const DAY = 86400;

/** The job kind a Mailer defines with this first retry delay. */
function mailJob(retryDelaySeconds: number): JobKind<MailMessage> {
  let defined: JobKind<MailMessage> | undefined;
  const jobs = { define: (kind: JobKind<MailMessage>) => (defined = kind) } as unknown as JobQueue;
  const config = { env: { MAIL_RETRY_DELAY_SECONDS: retryDelaySeconds } } as unknown as AppConfig;
  new Mailer(jobs, { send: () => Promise.resolve() } as unknown as MailTransport, config);
  return defined!;
}

describe('the mail job’s retries', () => {
  // MAIL_RETRY_DELAY_SECONDS: 1 to 3600, 10 by default
  it.each([1, 10, 60, 3600])(
    'span an invitation link’s 7 days, at most an hour apart (first delay %i s)',
    (retryDelaySeconds) => {
      const job = mailJob(retryDelaySeconds);
      expect(MAIL_RETRY_SPAN_SECONDS).toBe(7 * DAY);
      expect(job).toMatchObject({ retryDelaySeconds, retryDelayMaxSeconds: MAIL_RETRY_DELAY_MAX_SECONDS });
      const span = retrySpanSeconds(job);
      expect(span.min).toBeGreaterThanOrEqual(7 * DAY);
      // and not much longer: past 7 days a mail carries no live link
      expect(span.max).toBeLessThan(7 * DAY + 2 * 3600);
      const waits = Array.from({ length: job.retryLimit }, (_, n) => retryWaitSeconds(job, n));
      expect(Math.max(...waits.map((w) => w.max))).toBeLessThanOrEqual(3600);
      // backing off: no wait shorter than the one before
      for (let n = 1; n < waits.length; n++) expect(waits[n].min).toBeGreaterThanOrEqual(waits[n - 1].min);
      // the queue keeps a job until its last retry is long done
      expect(retentionSeconds(job)).toBeGreaterThan(span.max + (job.retryLimit + 1) * job.timeoutSeconds);
    },
  );

  it('back off from the first delay: 10 s, 20 s, 40 s… to an hour, then hourly, 176 retries by default', () => {
    const job = mailJob(10);
    expect(retryWaitSeconds(job, 0)).toEqual({ min: 10, max: 20 });
    expect(retryWaitSeconds(job, 1)).toEqual({ min: 20, max: 40 });
    expect(retryWaitSeconds(job, 8)).toEqual({ min: 3600, max: 3600 });
    expect(job.retryLimit).toBe(176);
    expect(retrySpanSeconds(job)).toEqual({ min: 607_350, max: 609_900 });
  });
});
