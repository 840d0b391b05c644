import { Column } from 'typeorm';
import { CreatedAtColumn, UpdatedAtColumn } from './columns';

/**
 * The columns every editable resource has besides its UUID: timestamps and the version behind
 * its ETag. Each entity declares its own `id`, because the primary key's constraint name
 * (`<table>_pkey`) differs per table.
 */
export abstract class VersionedEntity {
  @CreatedAtColumn()
  createdAt: Date;

  @UpdatedAtColumn()
  updatedAt: Date;

  @Column({ type: 'integer', default: 1, insert: false })
  version: number;
}
