import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { ByteRange, FileStorage, STORAGE_KEY_PATTERN } from './file-storage';

/** Files in a local folder (UPLOAD_DIR), one per key. */
export class LocalFileStorage extends FileStorage {
  constructor(private readonly root: string) {
    super();
  }

  async save(key: string, localFile: string): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    // The temporary file is in the same folder tree, so this is an atomic rename.
    await rename(localFile, target);
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    // Opened before streaming, so that a missing file is a rejection here, not a broken response.
    const handle = await open(this.pathOf(key), 'r');
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async remove(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    // Keys come from newStorageKey; anything else never reaches the file system.
    if (!STORAGE_KEY_PATTERN.test(key)) throw new Error(`Not a storage key: ${key}`);
    return join(this.root, key);
  }
}
