import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * A stored file to remove once `due_at` has passed: queued by the triggers on attachments and
 * users when a row naming a file goes, or reserved by an upload before its file is stored.
 * FileDeletionQueue reads and writes it with SQL; the entity describes the table for the schema
 * tooling.
 */
@Entity('file_deletions')
@Index('file_deletions_due_idx', ['dueAt'])
@Index('file_deletions_key_idx', ['storageKey'])
export class FileDeletion {
  /** bigint arrives from pg as a string. */
  @PrimaryGeneratedColumn('increment', { type: 'bigint', primaryKeyConstraintName: 'file_deletions_pkey' })
  id: string;

  @Column({ name: 'storage_key', type: 'text' })
  storageKey: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt: Date;

  /**
   * Full precision: a millisecond column would round now() up, and a drain in the same
   * millisecond would find the file of a deletion not yet due.
   */
  @Column({ name: 'due_at', type: 'timestamptz', default: () => 'now()' })
  dueAt: Date;
}
