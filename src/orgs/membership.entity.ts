import { Check, Column, Entity, ForeignKey, Index, PrimaryColumn } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from '../database/columns';
import type { OrgRole } from '../access/org-roles';

@Entity('memberships')
// "my orgs" and the tenancy check of every item route start from the user. The index carries
// the role as an INCLUDE column, which TypeORM cannot declare: the migration defines it, and
// schema generation leaves it alone.
@Index('memberships_user_idx', { synchronize: false })
@Index('memberships_org_created_idx', ['orgId', 'createdAt', 'userId'])
@Check('memberships_role_check', "role IN ('owner', 'admin', 'member', 'viewer')")
export class MembershipRow {
  @PrimaryColumn({ name: 'org_id', type: 'uuid', primaryKeyConstraintName: 'memberships_pkey' })
  @ForeignKey('orgs', { name: 'memberships_org_id_fkey', onDelete: 'CASCADE' })
  orgId: string;

  @PrimaryColumn({ name: 'user_id', type: 'uuid', primaryKeyConstraintName: 'memberships_pkey' })
  @ForeignKey('users', { name: 'memberships_user_id_fkey', onDelete: 'CASCADE' })
  userId: string;

  @Column({ type: 'text' })
  role: OrgRole;

  @CreatedAtColumn()
  createdAt: Date;

  @UpdatedAtColumn()
  updatedAt: Date;
}
