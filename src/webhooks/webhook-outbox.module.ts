import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaginationModule } from '../common/pagination/pagination.module';
import { AppConfig } from '../config/app-config';
import { HealthModule } from '../health/health.module';
import { WebhookDeliveries } from './webhook-deliveries';
import { WebhookDelivery } from './webhook-delivery.entity';
import { StoredWebhookEvent } from './webhook-event.entity';
import { WebhookMetrics } from './webhook-metrics';
import { WebhookOutbox } from './webhook-outbox';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';
import { WebhookTargets } from './webhook-target';
import { Webhook } from './webhook.entity';
import { WebhooksRepository } from './webhooks.repository';

/**
 * The webhooks' storage and delivery, without their routes: what the audit trail needs to record
 * events (WebhookOutbox), and what the webhooks routes build on. Kept apart from WebhooksModule so
 * that the audit trail depends on the outbox only, never on the webhooks controller.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Webhook, StoredWebhookEvent, WebhookDelivery]), PaginationModule, HealthModule],
  providers: [
    {
      provide: WebhookTargets,
      inject: [AppConfig],
      useFactory: (config: AppConfig) => new WebhookTargets(config.env.WEBHOOK_ALLOW_PRIVATE_TARGETS),
    },
    {
      provide: WebhookSender,
      inject: [WebhookTargets],
      useFactory: (targets: WebhookTargets) => new WebhookSender(targets),
    },
    WebhooksRepository,
    WebhookSecrets,
    WebhookMetrics,
    WebhookDeliveries,
    WebhookOutbox,
  ],
  exports: [WebhookOutbox, WebhookDeliveries, WebhooksRepository, WebhookSecrets, WebhookTargets],
})
export class WebhookOutboxModule {}
