import { Column } from 'typeorm';

/**
 * The columns every editable resource has besides its UUID: timestamps and the version behind
 * its ETag. Each entity declares its own `id`, because the primary key's constraint name
 * (`<table>_pkey`) differs per table.
 */
export abstract class VersionedEntity {
  @Column({
    name: 'created_at',
    type: 'timestamptz',
    precision: 3,
    default: () => 'now()',
    insert: false,
    update: false,
  })
  createdAt: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', precision: 3, default: () => 'now()', insert: false })
  updatedAt: Date;

  @Column({ type: 'integer', default: 1, insert: false })
  version: number;
}
