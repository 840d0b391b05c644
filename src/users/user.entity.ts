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

  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true, select: false })
  deletedAt: Date | null;
}
