import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';
import { LastUseBuffer } from './last-use-buffer';
import { SessionsRepository } from './sessions.repository';

/** How often access-token use reaches `session_families.last_used_at`. */
export const SESSION_ACTIVITY_FLUSH_MS = 30_000;

/**
 * When each session's access tokens were last used. Checking a token adds no database write:
 * uses are noted in memory, written every SESSION_ACTIVITY_FLUSH_MS in one statement (keeping
 * the later of the stored and the noted time) and once more at shutdown. The sessions list
 * merges this instance's unwritten uses, so a caller sees their own recent requests; another
 * instance's show up once it has flushed.
 */
@Injectable()
export class SessionActivity implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(SessionActivity.name);
  private readonly uses = new LastUseBuffer();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sessions: SessionsRepository,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flushQuietly(), SESSION_ACTIVITY_FLUSH_MS).unref();
  }

  // Before shutdown: the database pool closes in onApplicationShutdown.
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flushQuietly();
  }

  /** An access token of the session has just been accepted. */
  used(sessionId: string): void {
    this.uses.touch(sessionId);
  }

  /** This instance's latest use of the session that may not be in the database yet. */
  lastUse(sessionId: string): Date | undefined {
    return this.uses.lastUse(sessionId);
  }

  /** Writes the uses noted so far (the timer and shutdown call it; tests may too). */
  flush(): Promise<void> {
    return this.uses.flush((ids, usedAt) => this.unitOfWork.run((tx) => this.sessions.recordUse(tx, ids, usedAt)));
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (error) {
      // Kept for the next flush.
      this.logger.warn(`Could not record session activity: ${(error as Error).message}`);
    }
  }
}
