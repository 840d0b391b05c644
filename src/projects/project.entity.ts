import { Column, Entity } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('projects')
export class Project extends VersionedEntity {
  @Column({ name: 'org_id', type: 'uuid' })
  orgId: string;

  @Column({ type: 'text' })
  key: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  description: string;

  @Column({ type: 'boolean' })
  archived: boolean;
}
