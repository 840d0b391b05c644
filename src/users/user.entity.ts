import { Column, Entity } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';
import type { PlatformRole } from '../common/auth/auth-user';

@Entity('users')
export class User extends VersionedEntity {
  @Column({ type: 'text' })
  email: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ name: 'password_hash', type: 'text', select: false })
  passwordHash: string;

  @Column({ type: 'text' })
  role: PlatformRole;

  @Column({ name: 'avatar_content_type', type: 'text', nullable: true })
  avatarContentType: string | null;

  /** Also what the avatar's URL and ETag are made from. */
  @Column({ name: 'avatar_sha256', type: 'char', length: 64, nullable: true })
  avatarSha256: string | null;

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true, select: false })
  deletedAt: Date | null;
}
