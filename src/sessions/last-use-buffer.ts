/**
 * Ids noted at most between two writes (~150 bytes each): past it, the id noted first is dropped
 * (its use is written at its next use), so that a long database outage, when nothing is written
 * and every use is kept for the next flush, cannot grow the process without end.
 */
export const LAST_USE_MAX_ENTRIES = 100_000;

/**
 * When things were last used, collected in memory and written out in batches, so that using
 * something costs no database write. Nothing here knows what is tracked: sessions today (keyed by
 * session id), API keys next. Only the latest use per id is kept, so memory grows with the number
 * of ids used between two flushes, not with the number of requests, and never past `maxEntries`.
 */
export class LastUseBuffer {
  /** id → latest use not yet handed to a write (ms since epoch) */
  private pending = new Map<string, number>();
  /** what the write in progress is carrying: still this instance's own knowledge until it commits */
  private writing = new Map<string, number>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly maxEntries = LAST_USE_MAX_ENTRIES) {}

  touch(id: string, at = Date.now()): void {
    const known = this.pending.get(id);
    if (known !== undefined && at <= known) return;
    if (known === undefined && this.pending.size >= this.maxEntries) {
      this.pending.delete(this.pending.keys().next().value!);
    }
    this.pending.set(id, at);
  }

  /** Ids waiting for the next write, for tests. */
  get size(): number {
    return this.pending.size;
  }

  /** The latest use of `id` on this instance that the database may not have yet. */
  lastUse(id: string): Date | undefined {
    const pending = this.pending.get(id);
    const writing = this.writing.get(id);
    const latest = Math.max(pending ?? -Infinity, writing ?? -Infinity);
    return Number.isFinite(latest) ? new Date(latest) : undefined;
  }

  /**
   * Hands what has accumulated to `write` (one call, ids and times in step), one flush at a time.
   * A write that fails gives its values back for the next flush, and rejects.
   */
  flush(write: (ids: string[], usedAt: Date[]) => Promise<void>): Promise<void> {
    const run = this.queue.then(() => this.writeOut(write));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async writeOut(write: (ids: string[], usedAt: Date[]) => Promise<void>): Promise<void> {
    if (this.pending.size === 0) return;
    this.writing = this.pending;
    this.pending = new Map();
    try {
      await write(
        [...this.writing.keys()],
        [...this.writing.values()].map((ms) => new Date(ms)),
      );
    } catch (error) {
      for (const [id, at] of this.writing) this.touch(id, at);
      throw error;
    } finally {
      this.writing = new Map();
    }
  }
}
