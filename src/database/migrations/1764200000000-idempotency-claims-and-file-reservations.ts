import { MigrationInterface, QueryRunner } from 'typeorm';

export class IdempotencyClaimsAndFileReservations1764200000000 implements MigrationInterface {
  name = 'IdempotencyClaimsAndFileReservations1764200000000';

  async up(db: QueryRunner): Promise<void> {
    // Each claim of a key gets its own id: only the request holding the claim may store the
    // response (in the transaction that creates the resource), not one whose claim was taken over.
    await db.query(`ALTER TABLE idempotency_keys ADD COLUMN claim uuid`);
    // A file deletion may wait: an upload reserves its storage key here, due later, before the
    // file is stored; the transaction that writes the row naming the file takes the reservation
    // back. An upload that fails or is cut off by a crash leaves the reservation, and the sweep
    // removes its file once it is due.
    // Full precision: a millisecond column would round now() up, and a drain in the same
    // millisecond would find the file of a deletion not yet due.
    await db.query(`ALTER TABLE file_deletions ADD COLUMN due_at timestamptz NOT NULL DEFAULT now()`);
    await db.query(`CREATE INDEX file_deletions_due_idx ON file_deletions (due_at)`);
    await db.query(`CREATE INDEX file_deletions_key_idx ON file_deletions (storage_key)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX file_deletions_key_idx');
    await db.query('DROP INDEX file_deletions_due_idx');
    await db.query('ALTER TABLE file_deletions DROP COLUMN due_at');
    await db.query('ALTER TABLE idempotency_keys DROP COLUMN claim');
  }
}
