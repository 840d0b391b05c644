import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { Environment } from '../config/env.schema';
import { ByteRange, FileStorage, STORAGE_KEY_PATTERN } from './file-storage';

export interface S3StorageOptions {
  bucket: string;
  region: string;
  /** Unset: AWS S3 in `region`. */
  endpoint?: string;
  /** `endpoint/bucket/key` rather than `bucket.endpoint/key` (MinIO, Ceph RGW, s3rver). */
  forcePathStyle: boolean;
  /** Unset: the SDK's default chain (AWS_* variables, shared config, instance or task role). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** How long the boot-time look at the bucket may take; it never holds up boot. */
const BUCKET_CHECK_TIMEOUT_MS = 10_000;

/**
 * Objects in a bucket of an S3-compatible store (AWS S3, MinIO, Ceph RGW, R2), one per key.
 * Uploads still arrive and are checked in a local temporary file; `save` streams that file to
 * the store (multipart above 5 MiB, a few parts in memory at a time, never the whole file) and
 * removes it. Errors other than a missing object are rethrown as plain errors naming the
 * operation: the client sees a 500 without the store's text, the log keeps the cause.
 */
export class S3FileStorage extends FileStorage implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(S3FileStorage.name);
  private readonly client: S3Client;
  private readonly closing = new AbortController();

  constructor(private readonly options: S3StorageOptions) {
    super();
    this.client = new S3Client({
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      credentials: options.credentials,
      // Checksums only where the API requires them. By default the SDK adds a CRC32 to every
      // write (on a streamed body as aws-chunked framing with a trailer) and validates the
      // checksums of responses: stores short of AWS S3 (s3rver, older MinIO and Ceph RGW, some
      // gateways) refuse those writes or keep the framing as the object's bytes.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      // An unreachable store fails a request within seconds rather than holding it open; a socket
      // silent for two minutes (a stalled upload or download) is given up.
      requestHandler: { connectionTimeout: 5_000, socketTimeout: 120_000 },
    });
  }

  static fromEnvironment(env: Environment): S3FileStorage {
    if (env.S3_BUCKET === undefined) throw new Error('S3_BUCKET is required with STORAGE_DRIVER=s3');
    return new S3FileStorage({
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      endpoint: env.S3_ENDPOINT,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      credentials:
        env.S3_ACCESS_KEY_ID !== undefined && env.S3_SECRET_ACCESS_KEY !== undefined
          ? { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY }
          : undefined,
    });
  }

  /** A look at the bucket, not awaited: a store that is down or misconfigured is logged, never a boot that hangs. */
  onApplicationBootstrap(): void {
    void this.checkBucket();
  }

  /** After the HTTP server has closed, so that downloads still streaming from the store finish first. */
  onApplicationShutdown(): void {
    this.closing.abort();
    this.client.destroy();
  }

  async save(key: string, localFile: string): Promise<void> {
    const Key = this.checked(key);
    const body = createReadStream(localFile);
    try {
      // lib-storage sizes the upload from the file (a single PutObject up to 5 MiB, multipart
      // above) and aborts a multipart upload that fails, so that no parts are left behind.
      await new Upload({
        client: this.client,
        params: { Bucket: this.options.bucket, Key, Body: body, ContentType: 'application/octet-stream' },
      }).done();
    } catch (error) {
      // The temporary file stays, as when the local driver's rename fails: the upload's own
      // clean-up removes it, and the reservation (FileDeletionQueue) removes whatever got stored.
      throw failure('upload', key, error);
    } finally {
      body.destroy();
    }
    await rm(localFile, { force: true });
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    const Key = this.checked(key);
    const wanted = range ? `bytes=${range.start}-${range.end}` : undefined;
    let output;
    try {
      // Resolves once the store has answered with its status and headers: a missing object is a
      // rejection here, before anything is sent to the client.
      output = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key, Range: wanted }));
    } catch (error) {
      if (isMissingObject(error)) {
        // What the local driver's open() rejects with, and what the download answers 404 for.
        throw Object.assign(new Error(`No object under ${key}`), { code: 'ENOENT' });
      }
      throw failure('GetObject', key, error);
    }
    const body = output.Body;
    if (!(body instanceof Readable)) throw new Error(`GetObject of ${key} returned no stream`);
    // A store that ignored the Range would send the whole object under a partial Content-Length.
    if (range && !output.ContentRange?.startsWith(`bytes ${range.start}-${range.end}/`)) {
      body.destroy();
      throw new Error(`GetObject of ${key} answered ${output.ContentRange ?? 'without Content-Range'} for ${wanted}`);
    }
    return body;
  }

  async remove(key: string): Promise<void> {
    const Key = this.checked(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key }));
    } catch (error) {
      // S3 answers 204 for an object that is not there; some compatible stores answer 404.
      if (isMissingObject(error)) return;
      throw failure('DeleteObject', key, error);
    }
  }

  private checked(key: string): string {
    // Keys come from newStorageKey; anything else never reaches the store.
    if (!STORAGE_KEY_PATTERN.test(key)) throw new Error(`Not a storage key: ${key}`);
    return key;
  }

  private async checkBucket(): Promise<void> {
    const { bucket, endpoint, region } = this.options;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }), {
        abortSignal: AbortSignal.any([this.closing.signal, AbortSignal.timeout(BUCKET_CHECK_TIMEOUT_MS)]),
      });
    } catch (error) {
      if (this.closing.signal.aborted) return;
      const where = endpoint ?? `AWS S3 (${region})`;
      this.logger.error(
        `The S3 bucket "${bucket}" at ${where} cannot be used (${reason(error)}): uploads and downloads fail until it can. Check S3_ENDPOINT, S3_BUCKET and the credentials; the bucket must exist.`,
      );
    }
  }
}

function status(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

/** NoSuchKey, or a bare 404 from a store that sends no error body (HEAD) — but not a missing bucket. */
function isMissingObject(error: unknown): boolean {
  if (!(error instanceof S3ServiceException)) return false;
  return error.name === 'NoSuchKey' || (status(error) === 404 && error.name !== 'NoSuchBucket');
}

function reason(error: unknown): string {
  if (error instanceof S3ServiceException) return `${error.name}, HTTP ${status(error) ?? '?'}`;
  const { code, name, message } = error as { code?: string; name?: string; message?: string };
  return [code ?? name, message].filter(Boolean).join(': ');
}

/**
 * A plain error for the log. The SDK's own carries a `code` such as ECONNREFUSED, which the
 * error filter would take for the database being unreachable.
 */
function failure(operation: string, key: string, error: unknown): Error {
  return new Error(`S3 ${operation} of ${key} failed: ${reason(error)}`, { cause: error });
}
