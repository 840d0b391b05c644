import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { AppConfig } from '../config/app-config';

/** Older temporary files belong to uploads that a crash interrupted. */
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * The folder where uploads are written while they arrive (`UPLOAD_DIR/incoming`, on the same
 * file system as the stored files, so that storing one is a rename). What a crash leaves
 * here is removed at the next boot.
 */
@Injectable()
export class IncomingFiles implements OnApplicationBootstrap {
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
    const cutoff = Date.now() - STALE_AFTER_MS;
    for (const name of await readdir(this.dir)) {
      const path = join(this.dir, name);
      try {
        if ((await stat(path)).mtimeMs < cutoff) await rm(path, { force: true });
      } catch (error) {
        this.logger.warn(`Could not remove the stale upload ${name}: ${(error as Error).message}`);
      }
    }
  }
}
