import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { WebhookOutboxModule } from './webhook-outbox.module';
import { WebhooksController } from './webhooks.controller';
import { WebhooksService } from './webhooks.service';

/** The webhooks routes (§19), on the outbox and delivery of WebhookOutboxModule. */
@Module({
  imports: [WebhookOutboxModule, AuditModule],
  controllers: [WebhooksController],
  providers: [WebhooksService],
  exports: [WebhooksService],
})
export class WebhooksModule {}
