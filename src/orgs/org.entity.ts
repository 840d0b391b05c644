import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { VersionedEntity } from '../database/versioned.entity';

@Entity('orgs')
@Unique('orgs_slug_key', ['slug'])
export class Org extends VersionedEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'orgs_pkey' })
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text' })
  slug: string;
}
