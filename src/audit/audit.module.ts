import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { PaginationModule } from '../common/pagination/pagination.module';
import { AuditEvent } from './audit-event.entity';
import { AuditController } from './audit.controller';
import { AuditRepository } from './audit.repository';
import { AuditService } from './audit.service';

/** The audit trail. Its AuditEventSink (AUDIT_EVENT_SINK) comes from WebhookOutboxModule, a global module. */
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent]), PaginationModule],
  controllers: [AuditController],
  providers: [AuditRepository, AuditService],
  exports: [AuditService],
})
export class AuditModule {}
