import { Check, Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import type { OrgRole } from '../access/org-roles';
import { CreatedAtColumn } from '../database/columns';

@Entity('invitations')
@Unique('invitations_token_hash_key', ['tokenHash'])
@Index('invitations_org_created_idx', ['orgId', 'createdAt', 'id'])
@Index('invitations_open_email_idx', ['orgId', 'email'], { where: 'accepted_at IS NULL AND revoked_at IS NULL' })
@Check('invitations_role_check', "role IN ('owner', 'admin', 'member', 'viewer')")
export class Invitation {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'invitations_pkey' })
  id: string;

  @Column({ name: 'org_id', type: 'uuid' })
  @ForeignKey('orgs', { name: 'invitations_org_id_fkey', onDelete: 'CASCADE' })
  orgId: string;

  /** Lower-case, as every stored email. */
  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text' })
  role: OrgRole;

  /** SHA-256 of the token; the token itself is only in the mail. */
  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  /** Null once the inviter's account is gone. */
  @Column({ name: 'invited_by', type: 'uuid', nullable: true })
  @ForeignKey('users', { name: 'invitations_invited_by_fkey', onDelete: 'SET NULL' })
  invitedBy: string | null;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt: Date;

  @CreatedAtColumn()
  createdAt: Date;

  @Column({ name: 'accepted_at', type: 'timestamptz', precision: 3, nullable: true })
  acceptedAt: Date | null;

  @Column({ name: 'accepted_by', type: 'uuid', nullable: true })
  @ForeignKey('users', { name: 'invitations_accepted_by_fkey', onDelete: 'SET NULL' })
  acceptedBy: string | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  revokedAt: Date | null;
}
