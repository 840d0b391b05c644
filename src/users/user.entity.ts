import { Check, Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';
import type { PlatformRole } from '../common/auth/auth-user';

/**
 * A deleted account frees its email address: the email is unique among active users only.
 * A trigger (users_queue_avatar_file_deletion, in the migrations) queues the file of a replaced
 * or removed avatar in file_deletions.
 */
@Entity('users')
@Index('users_email_key', ['email'], { unique: true, where: 'deleted_at IS NULL' })
@Index('users_created_at_idx', ['createdAt', 'id'], { where: 'deleted_at IS NULL' })
@Index('users_name_idx', ['name', 'id'], { where: 'deleted_at IS NULL' })
@Unique('users_avatar_key_key', ['avatarKey'])
@Check('users_role_check', "role IN ('user', 'admin')")
export class User extends VersionedEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'users_pkey' })
  id: string;

  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'password_hash', type: 'text', select: false })
  passwordHash: string;

  @Column({ type: 'text', default: 'user' })
  role: PlatformRole;

  /** Where the avatar's file is stored; read and written by UsersRepository for the avatar service (not selected by default). */
  @Column({ name: 'avatar_key', type: 'text', nullable: true, select: false })
  avatarKey: string | null;

  @Column({ name: 'avatar_content_type', type: 'text', nullable: true })
  avatarContentType: string | null;

  @Column({ name: 'avatar_size', type: 'integer', nullable: true, select: false })
  avatarSize: number | null;

  /** Also what the avatar's URL and ETag are made from. */
  @Column({ name: 'avatar_sha256', type: 'char', length: 64, nullable: true })
  avatarSha256: string | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', precision: 3, nullable: true, select: false })
  deletedAt: Date | null;
}
