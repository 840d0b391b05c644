import { Global, Module } from '@nestjs/common';
import { AUDIT_EVENT_SINK } from '../audit/audit-event-sink';
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
 * The webhooks' storage and delivery, without their routes: the audit trail's AuditEventSink
 * (WebhookOutbox, bound to AUDIT_EVENT_SINK; global, so that the audit trail needs no import of
 * it), and what the webhooks routes build on.
 */
@Global()
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
    { provide: AUDIT_EVENT_SINK, useExisting: WebhookOutbox },
  ],
  exports: [AUDIT_EVENT_SINK, WebhookOutbox, WebhookDeliveries, WebhooksRepository, WebhookSecrets, WebhookTargets],
})
export class WebhookOutboxModule {}
