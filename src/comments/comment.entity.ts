import { Column, Entity } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('comments')
export class Comment extends VersionedEntity {
  @Column({ name: 'task_id', type: 'uuid' })
  taskId: string;

  @Column({ name: 'org_id', type: 'uuid' })
  orgId: string;

  @Column({ name: 'author_id', type: 'uuid' })
  authorId: string;

  @Column({ type: 'text' })
  body: string;
}
