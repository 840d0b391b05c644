import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import type { Transaction } from '../database/unit-of-work';
import { JobKind, JobQueue } from '../jobs/job-queue';
import { MailContent, MailMessage, renderMail } from './mail-message';
import { MailTransport } from './mail-transport';

/**
 * Outgoing mail as an outbox: `send` records the message in the transaction of the change that
 * causes it (a rolled-back change sends nothing); a background job delivers it after the commit,
 * retried with growing delays while the SMTP server is unreachable, so an outage delays mail and
 * loses none. Delivery is at least once: a crash between the SMTP server's acceptance and the
 * job's completion sends that message again.
 */
@Injectable()
export class Mailer implements OnApplicationShutdown {
  private readonly job: JobKind<MailMessage>;

  constructor(
    private readonly jobs: JobQueue,
    private readonly transport: MailTransport,
    config: AppConfig,
  ) {
    this.job = jobs.define<MailMessage>({
      name: 'mail.send',
      // 3 to 6 hours of retries with the default 10 s first delay (each wait about doubles).
      retryLimit: 10,
      retryDelaySeconds: config.env.MAIL_RETRY_DELAY_SECONDS,
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
