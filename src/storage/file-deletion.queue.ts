import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { FileStorage } from './file-storage';

const BATCH = 100;
const SWEEP_INTERVAL_MS = 60_000;

/**
 * Removes the files of deleted attachments and replaced avatars. Database triggers queue their
 * keys in `file_deletions` within the deleting transaction (cascades included), so a file is
 * removed only once its row is gone for good, and a deletion that rolls back removes nothing.
 * Services drain the queue right after such a commit; a sweep at boot and every minute catches
 * what a crash or a storage error left behind.
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

  /** Removes every queued file. Never rejects: what fails stays queued for the next sweep. */
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
        'SELECT id, storage_key FROM file_deletions ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED',
        [BATCH],
      );
      if (rows.length === 0) return false;
      for (const row of rows) await this.storage.remove(row.storage_key);
      await manager.query('DELETE FROM file_deletions WHERE id = ANY($1)', [rows.map((r) => r.id)]);
      return rows.length === BATCH;
    });
  }
}
