import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../health/metrics.service';
import { WebhooksRepository } from './webhooks.repository';

/** A webhook counts as failing after this many failed attempts in a row (with no success since). */
export const FAILING_AFTER_ATTEMPTS = 3;

export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed';

/**
 * Webhook metrics in /metrics: this process's delivery attempts by outcome
 * (`webhook_deliveries_total{outcome}`: succeeded; retrying = failed, another attempt scheduled;
 * failed = given up, or not sent because the webhook is inactive), and how many active webhooks
 * are failing (`webhooks_failing`, from the database: all instances).
 */
@Injectable()
export class WebhookMetrics {
  private readonly logger = new Logger(WebhookMetrics.name);
  private readonly deliveries: Counter<'outcome'>;
  private lastFailing = 0;

  constructor(metrics: MetricsService, webhooks: WebhooksRepository) {
    this.deliveries = new Counter({
      name: 'webhook_deliveries_total',
      help: 'Webhook delivery attempts of this process by outcome (succeeded, retrying, failed = given up or not sent)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
    });
    for (const outcome of ['succeeded', 'retrying', 'failed'] as const) this.deliveries.inc({ outcome }, 0);
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- prom-client calls collect with the gauge as `this`
    const self = this;
    new Gauge({
      name: 'webhooks_failing',
      help: `Active webhooks whose last ${FAILING_AFTER_ATTEMPTS} or more delivery attempts all failed (all instances)`,
      registers: [metrics.registry],
      async collect() {
        // /metrics answers during a database outage too: with the last count it got.
        try {
          self.lastFailing = await webhooks.countFailing(FAILING_AFTER_ATTEMPTS);
        } catch (error) {
          self.logger.warn(`Failing webhooks count unavailable: ${(error as Error).message}`);
        }
        this.set(self.lastFailing);
      },
    });
  }

  count(outcome: DeliveryOutcome): void {
    this.deliveries.inc({ outcome });
  }
}
