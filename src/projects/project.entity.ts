import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('projects')
@Unique('projects_org_key_key', ['orgId', 'key'])
@Index('projects_org_created_idx', ['orgId', 'createdAt', 'id'])
@Index('projects_org_name_idx', ['orgId', 'name', 'id'])
export class Project extends VersionedEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'projects_pkey' })
  id: string;

  @Column({ name: 'org_id', type: 'uuid' })
  @ForeignKey('orgs', { name: 'projects_org_id_fkey', onDelete: 'CASCADE' })
  orgId: string;

  @Column({ type: 'text' })
  key: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' })
  description: string;

  @Column({ type: 'boolean', default: false })
  archived: boolean;

  /**
   * The last task number handed out; incremented with SQL under the row lock when a task is
   * created, so numbers have no gaps. Internal: not read with the project.
   */
  @Column({ name: 'task_seq', type: 'integer', default: 0, select: false })
  taskSeq: number;
}
