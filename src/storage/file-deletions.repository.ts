import { Injectable } from '@nestjs/common';
import { Database } from '../database/database';
import { Transaction, UnitOfWork } from '../database/unit-of-work';

/** All SQL for file_deletions (the rows that triggers on attachments and users add are theirs too). */
@Injectable()
export class FileDeletionsRepository {
  constructor(
    private readonly db: Database,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async reserve(storageKey: string, minutes: number): Promise<void> {
    await this.db.rows({
      text: 'INSERT INTO file_deletions (storage_key, due_at) VALUES ($1, now() + make_interval(mins => $2))',
      values: [storageKey, minutes],
    });
  }

  async claim(tx: Transaction, storageKey: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM file_deletions WHERE storage_key = $1', values: [storageKey] });
  }

  async dueNow(storageKey: string): Promise<void> {
    await this.db.rows({
      text: 'UPDATE file_deletions SET due_at = now() WHERE storage_key = $1',
      values: [storageKey],
    });
  }

  /**
   * Up to `limit` due entries, locked so that concurrent drains (other instances) take others;
   * `remove` deletes the files, then the entries go in the same transaction. How many were taken.
   */
  takeDue(limit: number, remove: (storageKeys: string[]) => Promise<void>): Promise<number> {
    return this.unitOfWork.run(async (tx) => {
      const rows = await tx.rows<{ id: string; storage_key: string }>({
        text: 'SELECT id, storage_key FROM file_deletions WHERE due_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        values: [limit],
      });
      if (rows.length === 0) return 0;
      await remove(rows.map((r) => r.storage_key));
      await tx.affected({ text: 'DELETE FROM file_deletions WHERE id = ANY($1)', values: [rows.map((r) => r.id)] });
      return rows.length;
    });
  }
}
