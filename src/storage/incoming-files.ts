import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/app-config';

/**
 * A temporary file left untouched this long belongs to no upload in progress: Node's request
 * timeout (5 minutes) ends any upload that stops sending, and an upload that sends writes its
 * file. So it was left by a process that died mid-upload (a crash, or the hard exit of a shutdown
 * that ran out of time), here or on another instance sharing the folder.
 */
export const STALE_AFTER_MS = 10 * 60 * 1000;
const SWEEP_INTERVAL_MS = 5 * 60 * 1000;

/**
 * The folder where uploads are written while they arrive (`UPLOAD_DIR/incoming`, on the same
 * file system as the stored files, so that storing one is a rename). What a crash leaves
 * here is removed at boot and by a sweep every 5 minutes, once stale.
 */
@Injectable()
export class IncomingFiles implements OnApplicationBootstrap, OnModuleDestroy {
  private timer?: NodeJS.Timeout;
  private readonly logger = new Logger(IncomingFiles.name);
  readonly dir: string;

  constructor(config: AppConfig) {
    this.dir = join(resolve(config.env.UPLOAD_DIR), 'incoming');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A fresh path for an upload about to arrive. */
  newPath(): string {
    return join(this.dir, randomUUID());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** Removes temporary files not written to for STALE_AFTER_MS. */
  async sweep(now = Date.now()): Promise<void> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      this.logger.warn(`Could not read the folder of arriving uploads: ${(error as Error).message}`);
      return;
    }
    for (const name of names) {
      const path = join(this.dir, name);
      try {
        if ((await stat(path)).mtimeMs < now - STALE_AFTER_MS) await rm(path, { force: true });
      } catch (error) {
        // Gone meanwhile: an upload stored or removed its own file.
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        this.logger.warn(`Could not remove the stale upload ${name}: ${(error as Error).message}`);
      }
    }
  }
}
