import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { CreatedAtColumn } from '../database/columns';

/** One refresh token, stored as its SHA-256; used once, then replaced by the next. */
@Entity('refresh_tokens')
@Unique('refresh_tokens_token_hash_key', ['tokenHash'])
@Index('refresh_tokens_family_idx', ['familyId'])
export class RefreshToken {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'refresh_tokens_pkey' })
  id: string;

  @Column({ name: 'family_id', type: 'uuid' })
  @ForeignKey('session_families', { name: 'refresh_tokens_family_id_fkey', onDelete: 'CASCADE' })
  familyId: string;

  @Column({ name: 'token_hash', type: 'bytea' })
  tokenHash: Buffer;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 })
  expiresAt: Date;

  @Column({ name: 'used_at', type: 'timestamptz', precision: 3, nullable: true })
  usedAt: Date | null;

  @CreatedAtColumn()
  createdAt: Date;
}
