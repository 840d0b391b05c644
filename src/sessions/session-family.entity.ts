import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { CreatedAtColumn } from '../database/columns';

/** A sign-in session: the family of refresh tokens that descend from one login. */
@Entity('session_families')
@Index('session_families_active_user_idx', ['userId'], { where: 'revoked_at IS NULL' })
@Index('session_families_revoked_at_idx', ['revokedAt'], { where: 'revoked_at IS NOT NULL' })
export class SessionFamily {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'session_families_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'session_families_user_id_fkey', onDelete: 'CASCADE' })
  userId: string;

  @CreatedAtColumn()
  createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'revoked_reason', type: 'text', nullable: true })
  revokedReason: string | null;

  /** The User-Agent header at sign-in (truncated); null for sessions from before it was recorded. */
  @Column({ name: 'user_agent', type: 'text', nullable: true })
  userAgent: string | null;

  /** The client's address at sign-in, as the app saw it (`req.ip`, after TRUST_PROXY). */
  @Column({ name: 'ip', type: 'text', nullable: true })
  ip: string | null;

  /** Sign-in, each refresh, and access-token use as flushed by SessionActivity (so up to its interval behind). */
  @Column({ name: 'last_used_at', type: 'timestamptz', precision: 3, nullable: true })
  lastUsedAt: Date | null;
}
