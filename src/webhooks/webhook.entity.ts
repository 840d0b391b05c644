import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('webhooks')
@Index('webhooks_org_created_idx', ['orgId', 'createdAt', 'id'])
export class Webhook extends VersionedEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'webhooks_pkey' })
  id: string;

  @Column({ name: 'org_id', type: 'uuid' })
  @ForeignKey('orgs', { name: 'webhooks_org_id_fkey', onDelete: 'CASCADE' })
  orgId: string;

  @Column({ type: 'text' })
  url: string;

  /** Event types, or `{*}`. */
  @Column({ type: 'text', array: true })
  events: string[];

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'boolean', default: true })
  active: boolean;

  /** The `whsec_…` secret, sealed (SealedPayload, purpose "webhook secrets"). */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  /** Attempts failed since the last one that succeeded. */
  @Column({ name: 'consecutive_failures', type: 'integer', default: 0 })
  consecutiveFailures: number;
}
