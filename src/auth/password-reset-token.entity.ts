import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { CreatedAtColumn } from '../database/columns';

/** One password-reset link: stored as the SHA-256 of its token, valid 30 minutes, used once. */
@Entity('password_reset_tokens')
@Unique('password_reset_tokens_token_hash_key', ['tokenHash'])
@Index('password_reset_tokens_user_idx', ['userId'], { where: 'used_at IS NULL' })
export class PasswordResetToken {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'password_reset_tokens_pkey' })
  id: string;

  @Column({ name: 'user_id', type: 'uuid' })
  @ForeignKey('users', { name: 'password_reset_tokens_user_id_fkey', onDelete: 'CASCADE' })
  userId: string;

  /** The address the link was mailed to: the link works only while the account still has it. */
  @Column({ name: 'sent_to', type: 'text' })
  sentTo: string;

  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', precision: 3, nullable: true })
  usedAt: Date | null;

  @CreatedAtColumn()
  createdAt: Date;
}
