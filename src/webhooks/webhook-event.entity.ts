import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn } from '../database/columns';

/** An event as delivered: its id is the audit event's (a ping's is its own). */
@Entity('webhook_events')
@Index('webhook_events_org_idx', ['orgId'])
export class StoredWebhookEvent {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhook_events_pkey' })
  id: string;

  @Column({ name: 'org_id', type: 'uuid' })
  @ForeignKey('orgs', { name: 'webhook_events_org_id_fkey', onDelete: 'CASCADE' })
  orgId: string;

  @Column({ type: 'text' })
  type: string;

  /** The request body, byte for byte as every attempt sends it. */
  @Column({ type: 'text' })
  payload: string;

  @CreatedAtColumn()
  createdAt: Date;
}
