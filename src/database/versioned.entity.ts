import { Column, PrimaryGeneratedColumn } from 'typeorm';

/** The columns every editable resource has: a UUID, timestamps and the version behind its ETag. */
export abstract class VersionedEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'created_at', type: 'timestamptz', insert: false, update: false })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', insert: false })
  updatedAt: Date;

  @Column({ type: 'integer', insert: false })
  version: number;
}
