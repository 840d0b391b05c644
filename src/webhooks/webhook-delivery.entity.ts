import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../database/columns';

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

@Entity('webhook_deliveries')
@Check('webhook_deliveries_status_check', "status IN ('pending', 'succeeded', 'failed')")
@Index('webhook_deliveries_webhook_created_idx', ['webhookId', 'createdAt', 'id'])
@Index('webhook_deliveries_event_idx', ['eventId'])
export class WebhookDelivery {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_deliveries_pkey' })
  id: string;

  @Column({ name: 'webhook_id', type: 'uuid' })
  @ForeignKey('webhooks', { name: 'webhook_deliveries_webhook_id_fkey', onDelete: 'CASCADE' })
  webhookId: string;

  @Column({ name: 'event_id', type: 'uuid' })
  @ForeignKey('webhook_events', { name: 'webhook_deliveries_event_id_fkey', onDelete: 'CASCADE' })
  eventId: string;

  @Column({ type: 'text', default: 'pending' })
  status: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_status_code', type: 'integer', nullable: true })
  lastStatusCode: number | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', precision: 3, nullable: true })
  nextAttemptAt: Date | null;

  @CreatedAtColumn()
  createdAt: Date;

  @UpdatedAtColumn()
  updatedAt: Date;
}
