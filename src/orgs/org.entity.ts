import { Column, Entity } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('orgs')
export class Org extends VersionedEntity {
  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  slug: string;
}
