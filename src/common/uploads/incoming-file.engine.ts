import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HEAD_BYTES, SniffedFile } from './content-sniffer';

/** A file as it arrived: in a temporary file, with its digest and what sniffing needs. */
export interface IncomingFile extends SniffedFile {
  originalname: string;
  sha256: string;
}

/** C0 controls other than tab, LF, VT, FF, CR and ESC, and DEL: binary, not text. */
const BINARY_BYTE = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) if (![0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b].includes(b)) BINARY_BYTE[b] = 1;
BINARY_BYTE[0x7f] = 1;

/** Passes the bytes through while computing their sha256 and size, keeping the head, and judging text. */
class UploadInspector extends Transform {
  private readonly hash = createHash('sha256');
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly headChunks: Buffer[] = [];
  private headLength = 0;
  size = 0;
  textual = true;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    if (this.headLength < HEAD_BYTES) {
      this.headChunks.push(chunk.subarray(0, HEAD_BYTES - this.headLength));
      this.headLength += Math.min(chunk.length, HEAD_BYTES - this.headLength);
    }
    if (this.textual) this.judgeText(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    if (this.textual) this.judgeText(undefined);
    callback();
  }

  result(): Omit<IncomingFile, 'path' | 'originalname'> {
    return {
      size: this.size,
      sha256: this.hash.digest('hex'),
      head: Buffer.concat(this.headChunks),
      textual: this.textual && this.size > 0,
    };
  }

  private judgeText(chunk: Buffer | undefined): void {
    try {
      this.decoder.decode(chunk, { stream: chunk !== undefined });
    } catch {
      this.textual = false;
      return;
    }
    if (chunk) {
      for (let i = 0; i < chunk.length; i++) {
        if (BINARY_BYTE[chunk[i]]) {
          this.textual = false;
          return;
        }
      }
    }
  }
}

/**
 * multer storage engine: streams the upload into a new temporary file (never a name the
 * client chose), inspecting it on the way. A failed or aborted upload removes its file.
 */
export class IncomingFileEngine implements StorageEngine {
  constructor(private readonly newPath: () => string) {}

  _handleFile(
    _req: Request,
    file: Express.Multer.File,
    callback: (error?: unknown, info?: Partial<IncomingFile>) => void,
  ): void {
    const path = this.newPath();
    const inspector = new UploadInspector();
    pipeline(file.stream, inspector, createWriteStream(path, { flags: 'wx', mode: 0o600 })).then(
      () => callback(null, { path, ...inspector.result() }),
      (error: unknown) => {
        rm(path, { force: true }).then(
          () => callback(error),
          () => callback(error),
        );
      },
    );
  }

  _removeFile(_req: Request, file: Express.Multer.File, callback: (error: Error | null) => void): void {
    rm(file.path, { force: true }).then(
      () => callback(null),
      (error: Error) => callback(error),
    );
  }
}
