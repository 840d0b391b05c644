import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { Transaction } from '../database/unit-of-work';
import { JobKind, JobQueue, retryLimitToSpan } from '../jobs/job-queue';
import { MailContent, MailMessage, renderMail } from './mail-message';
import { MailTransport } from './mail-transport';

/**
 * How long a mail is retried while it cannot be sent: the life of the longest-lived link a mail
 * carries, an invitation's 7 days (a password reset's 30 minutes are within it).
 */
export const MAIL_RETRY_SPAN_SECONDS = 7 * 86400;
/** The longest wait between two attempts: once the SMTP server is back, mail goes out within it. */
export const MAIL_RETRY_DELAY_MAX_SECONDS = 3600;

/**
 * Outgoing mail as an outbox: `send` records the message in the transaction of the change that
 * causes it (a rolled-back change sends nothing); a background job delivers it after the commit,
 * retried with growing delays (at most an hour apart) for 7 days while the SMTP server is
 * unreachable, so an outage delays mail and loses none before its link expires. Delivery is at
 * least once: a crash between the SMTP server's acceptance and the job's completion sends that
 * message again.
 */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly job: JobKind<MailMessage>;

  constructor(
    private readonly jobs: JobQueue,
    private readonly transport: MailTransport,
    config: AppConfig,
  ) {
    const backoff = {
      retryDelaySeconds: config.env.MAIL_RETRY_DELAY_SECONDS,
      retryDelayMaxSeconds: MAIL_RETRY_DELAY_MAX_SECONDS,
    };
    this.job = jobs.define<MailMessage>({
      name: 'mail.send',
      // Waits of about 10 s, 20 s, 40 s… (the default first delay) up to an hour, then hourly, for
      // 7 days: 176 retries with the default.
      retryLimit: retryLimitToSpan(MAIL_RETRY_SPAN_SECONDS, backoff),
      ...backoff,
      timeoutSeconds: 120,
      concurrency: 2,
      // A message carries a one-time link: encrypted while it waits in the queue.
      sealed: true,
      handle: (message) => transport.send(message),
    });
  }

  /** Queues the mail in `tx`; it is sent once `tx` has committed. */
  async send(tx: Transaction, content: MailContent): Promise<void> {
    await this.jobs.enqueue(tx, this.job, renderMail(content));
  }

  onApplicationShutdown(): void {
    this.transport.close();
  }
}
