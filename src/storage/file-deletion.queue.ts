import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { FileStorage } from './file-storage';

const BATCH = 100;
const SWEEP_INTERVAL_MS = 60_000;
/**
 * How long an upload's reservation waits before its file is removed: longer than any upload
 * takes to go from stored file to committed row (a rename and one transaction), so that only an
 * upload that failed or was cut off by a crash leaves a file for the sweep.
 */
export const RESERVATION_MINUTES = 15;

/**
 * Removes the files of deleted attachments and replaced avatars. Database triggers queue their
 * keys in `file_deletions` within the deleting transaction (cascades included), so a file is
 * removed only once its row is gone for good, and a deletion that rolls back removes nothing.
 * Services drain the queue right after such a commit; a sweep at boot and every minute catches
 * what a crash or a storage error left behind.
 *
 * New files go through it too: `reserve` queues an upload's key, due in RESERVATION_MINUTES,
 * before the file is stored; the transaction that writes the row naming the file calls `claim`,
 * which takes the entry back. An upload whose row never commits (it failed, or the process died
 * between storing the file and committing) leaves the entry, and its file is removed when due:
 * no row without its file, and no file without its row for longer than that.
 */
@Injectable()
export class FileDeletionQueue implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(FileDeletionQueue.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly storage: FileStorage,
  ) {}

  onApplicationBootstrap(): void {
    void this.drain();
    this.timer = setInterval(() => void this.drain(), SWEEP_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Queues an upload's file for removal later, unless `claim` takes it back first. */
  async reserve(storageKey: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO file_deletions (storage_key, due_at) VALUES ($1, now() + make_interval(mins => ${RESERVATION_MINUTES}))`,
      [storageKey],
    );
  }

  /** In the transaction that writes the row naming the file: the file stays. */
  async claim(manager: EntityManager, storageKey: string): Promise<void> {
    await manager.query('DELETE FROM file_deletions WHERE storage_key = $1', [storageKey]);
  }

  /** The upload failed: its file (if it got stored) goes now rather than when the reservation is due. */
  async abandon(storageKey: string): Promise<void> {
    await this.dataSource
      .query('UPDATE file_deletions SET due_at = now() WHERE storage_key = $1', [storageKey])
      .catch((error: Error) => this.logger.warn(`Could not abandon an upload's file: ${error.message}`));
    await this.drain();
  }

  /** Removes every queued file that is due. Never rejects: what fails stays queued for the next sweep. */
  async drain(): Promise<void> {
    try {
      while (await this.removeBatch()) {
        // until a batch comes back short
      }
    } catch (error) {
      this.logger.warn(`Could not remove the files of deleted rows, retrying later: ${(error as Error).message}`);
    }
  }

  /** One batch, locked so that concurrent drains (other instances) take other rows. */
  private removeBatch(): Promise<boolean> {
    return this.dataSource.transaction(async (manager) => {
      const rows: { id: string; storage_key: string }[] = await manager.query(
        'SELECT id, storage_key FROM file_deletions WHERE due_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [BATCH],
      );
      if (rows.length === 0) return false;
      for (const row of rows) await this.storage.remove(row.storage_key);
      await manager.query('DELETE FROM file_deletions WHERE id = ANY($1)', [rows.map((r) => r.id)]);
      return rows.length === BATCH;
    });
  }
}
