import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { JobKind, JobQueue } from '../jobs/job-queue';
import { DeliveryOutcome, WebhookMetrics } from './webhook-metrics';
import { retryDelaySeconds } from './webhook-retry';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhooksRepository } from './webhooks.repository';

/** A job: attempt number `attempt` (0 for the first) of one delivery. */
export interface DeliveryJob {
  deliveryId: string;
  attempt: number;
}

/**
 * Delivery of webhook events on the job queue (`webhook.deliver`). A job is one attempt; its
 * outcome is recorded on the delivery row with the next attempt's job, in one transaction, after
 * the retry schedule of webhook-retry.ts (not pg-boss's backoff). A job whose attempt is already
 * recorded (one worked twice after a crash) does nothing, so each attempt schedules at most one
 * next one. A delivery whose webhook is inactive when its job runs is not sent: it is marked
 * failed (`webhook inactive`); one whose webhook is deleted went with it.
 */
@Injectable()
export class WebhookDeliveries {
  private readonly logger = new Logger(WebhookDeliveries.name);
  private readonly job: JobKind<DeliveryJob>;

  constructor(
    private readonly jobs: JobQueue,
    private readonly webhooks: WebhooksRepository,
    private readonly secrets: WebhookSecrets,
    private readonly sender: WebhookSender,
    private readonly metrics: WebhookMetrics,
    private readonly unitOfWork: UnitOfWork,
    private readonly config: AppConfig,
  ) {
    this.job = jobs.define<DeliveryJob>({
      name: 'webhook.deliver',
      // Only for a handler that threw (the database unreachable) or a process that died mid-attempt:
      // failed HTTP attempts are scheduled by the handler itself. Backing off from the base delay,
      // 12 retries span days, so that a long database outage leaves no delivery without its job.
      retryLimit: 12,
      retryDelaySeconds: config.env.WEBHOOK_RETRY_DELAY_SECONDS,
      // The request's 10 s, and the two small transactions around it.
      timeoutSeconds: 30,
      concurrency: 3,
      handle: (job) => this.deliver(job),
    });
  }

  /** Queues the first attempt of each delivery in `tx`. */
  async schedule(tx: Transaction, deliveryIds: string[]): Promise<void> {
    for (const deliveryId of deliveryIds) await this.jobs.enqueue(tx, this.job, { deliveryId, attempt: 0 });
  }

  private async deliver({ deliveryId, attempt }: DeliveryJob): Promise<void> {
    const delivery = await this.webhooks.deliveryToSend(deliveryId);
    // Gone with its webhook, or this attempt already recorded by another run of the job.
    if (!delivery || delivery.status !== 'pending' || delivery.attempts !== attempt) return;
    if (!delivery.active) return this.settleUnsent(deliveryId, attempt, 'webhook inactive');
    let secret: string;
    try {
      secret = this.secrets.open(delivery.secretSealed);
    } catch {
      this.logger.warn(`Webhook ${delivery.webhookId}: its secret cannot be opened (was JWT_SECRET rotated?)`);
      return this.settleUnsent(deliveryId, attempt, 'secret unreadable');
    }
    const outcome = await this.sender.send({ url: delivery.url, secret, id: delivery.eventId, body: delivery.payload });
    const retryIn = outcome.ok ? null : retryDelaySeconds(attempt, this.config.env.WEBHOOK_RETRY_DELAY_SECONDS);
    const status = outcome.ok ? 'succeeded' : retryIn === null ? 'failed' : 'pending';
    const recorded = await this.unitOfWork.run(async (tx) => {
      const first = await this.webhooks.recordAttempt(
        tx,
        { id: deliveryId, webhookId: delivery.webhookId, attempt },
        {
          status,
          statusCode: outcome.statusCode,
          error: outcome.error,
          retryInSeconds: retryIn,
          succeeded: outcome.ok,
        },
      );
      if (first && retryIn !== null) {
        await this.jobs.enqueue(tx, this.job, { deliveryId, attempt: attempt + 1 }, { startAfterSeconds: retryIn });
      }
      return first;
    });
    if (!recorded) return;
    const counted: DeliveryOutcome = outcome.ok ? 'succeeded' : status === 'failed' ? 'failed' : 'retrying';
    this.metrics.count(counted);
    if (!outcome.ok) {
      this.logger.warn(
        `Webhook delivery ${deliveryId} attempt ${attempt + 1} failed (${outcome.error})${retryIn === null ? ', giving up' : `, retry in ${retryIn} s`}`,
      );
    }
  }

  private async settleUnsent(deliveryId: string, attempt: number, error: string): Promise<void> {
    await this.webhooks.settleUnsent(deliveryId, attempt, error);
    this.metrics.count('failed');
  }
}
