import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('comments')
@Index('comments_task_created_idx', ['taskId', 'createdAt', 'id'])
export class Comment extends VersionedEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'comments_pkey' })
  id: string;

  @Column({ name: 'task_id', type: 'uuid' })
  @ForeignKey('tasks', { name: 'comments_task_id_fkey', onDelete: 'CASCADE' })
  taskId: string;

  /** Copied from the task (which never changes org) for tenancy checks and audit events. */
  @Column({ name: 'org_id', type: 'uuid' })
  @ForeignKey('orgs', { name: 'comments_org_id_fkey', onDelete: 'CASCADE' })
  orgId: string;

  /** A user, or an org API key: no foreign key, since either kind of principal may be it. */
  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @Column({ type: 'text' })
  body: string;
}
