import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import type { PrincipalKind } from '../common/auth/auth-user';
import { CreatedAtColumn } from '../database/columns';

/** No foreign key to orgs: the trail of a deleted org outlives it. */
@Entity('audit_events')
@Check('audit_events_actor_type_check', "actor_type IN ('user', 'apiKey')")
@Index('audit_events_org_created_idx', ['orgId', 'createdAt', 'id'])
@Index('audit_events_actor_idx', ['orgId', 'actorId', 'createdAt', 'id'])
@Index('audit_events_action_idx', ['orgId', 'action', 'createdAt', 'id'])
@Index('audit_events_org_entity_type_idx', ['orgId', 'entityType', 'createdAt', 'id'])
@Index('audit_events_org_entity_id_idx', ['orgId', 'entityId', 'createdAt', 'id'])
@Index('audit_events_org_api_key_idx', ['orgId', 'createdAt', 'id'], { where: "actor_type = 'apiKey'" })
export class AuditEvent {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'audit_events_pkey' })
  id: string;

  @Column({ name: 'org_id', type: 'uuid' })
  orgId: string;

  /** `user` (actor_id names a user) or `apiKey` (an org API key). */
  @Column({ name: 'actor_type', type: 'text', default: 'user' })
  actorType: PrincipalKind;

  @Column({ name: 'actor_id', type: 'uuid', nullable: true })
  actorId: string | null;

  @Column({ type: 'text' })
  action: string;

  @Column({ name: 'entity_type', type: 'text' })
  entityType: string;

  @Column({ name: 'entity_id', type: 'uuid' })
  entityId: string;

  @Column({ type: 'jsonb', default: {} })
  changes: Record<string, [unknown, unknown]>;

  @Column({ name: 'request_id', type: 'text', nullable: true })
  requestId: string | null;

  @CreatedAtColumn()
  createdAt: Date;
}
