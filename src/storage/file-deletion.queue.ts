import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Transaction } from '../database/unit-of-work';
import { FileDeletionsRepository } from './file-deletions.repository';
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
 * A service whose change may queue files registers `drainAfter(tx)` on the change's unit of
 * work, which drains once it has committed; a sweep at boot and every minute catches what a
 * crash or a storage error left behind.
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
    private readonly deletions: FileDeletionsRepository,
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
  reserve(storageKey: string): Promise<void> {
    return this.deletions.reserve(storageKey, RESERVATION_MINUTES);
  }

  /** In the transaction that writes the row naming the file: the file stays. */
  claim(tx: Transaction, storageKey: string): Promise<void> {
    return this.deletions.claim(tx, storageKey);
  }

  /** The upload failed: its file (if it got stored) goes now rather than when the reservation is due. */
  async abandon(storageKey: string): Promise<void> {
    await this.deletions
      .dueNow(storageKey)
      .catch((error: Error) => this.logger.warn(`Could not abandon an upload's file: ${error.message}`));
    await this.drain();
  }

  /** Removes the files `tx` queued (deleted attachments, replaced avatars), once it has committed. */
  drainAfter(tx: Transaction): void {
    tx.afterCommit(() => this.drain());
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

  /** One batch; true when there may be more. */
  private async removeBatch(): Promise<boolean> {
    const taken = await this.deletions.takeDue(BATCH, async (keys) => {
      for (const key of keys) await this.storage.remove(key);
    });
    return taken === BATCH;
  }
}
