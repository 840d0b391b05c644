import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

// An S3-protocol server in this process (s3rver), for the S3 storage driver's tests: loopback
// only, an ephemeral port, its objects in a temporary folder, one bucket created, no logging.

export interface S3TestServer {
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** env for createTestApp / a server process: STORAGE_DRIVER=s3 and the S3_* variables */
  env: Record<string, string>;
  /** the stored objects' keys (for "no orphan objects" assertions) */
  keys(): Promise<string[]>;
  /** A stored object's bytes, read behind the app's back. */
  bytes(key: string): Promise<Buffer>;
  /** An S3 client of the test's own (destroy it when done). */
  client(): S3Client;
  stop(): Promise<void>;
}

const BUCKET = 'tasklane-test';
// s3rver knows one account, S3RVER/S3RVER (it does not check SigV4 signatures).
const ACCESS_KEY_ID = 'S3RVER';
const SECRET_ACCESS_KEY = 'S3RVER';
const REGION = 'us-east-1';

export async function startS3Server(): Promise<S3TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'tasklane-s3-'));
  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  let port: number;
  try {
    ({ port } = await s3rver.run());
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const newClient = (): S3Client =>
    new S3Client({
      endpoint,
      region: REGION,
      forcePathStyle: true,
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY },
    });
  const client = newClient();
  let stopped: Promise<void> | undefined;

  return {
    endpoint,
    bucket: BUCKET,
    accessKeyId: ACCESS_KEY_ID,
    secretAccessKey: SECRET_ACCESS_KEY,
    region: REGION,
    env: {
      STORAGE_DRIVER: 's3',
      S3_ENDPOINT: endpoint,
      S3_REGION: REGION,
      S3_BUCKET: BUCKET,
      S3_ACCESS_KEY_ID: ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: SECRET_ACCESS_KEY,
      S3_FORCE_PATH_STYLE: 'true',
    },
    async keys() {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken }));
        for (const object of page.Contents ?? []) keys.push(object.Key!);
        ContinuationToken = page.NextContinuationToken;
      } while (ContinuationToken);
      return keys.sort();
    },
    async bytes(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
      return Buffer.from(await object.Body!.transformToByteArray());
    },
    client: newClient,
    stop() {
      stopped ??= (async () => {
        client.destroy();
        const closed = s3rver.close();
        // Connections an app's client keeps alive (or is still using) would hold close() open.
        (s3rver as unknown as { httpServer?: Server }).httpServer?.closeAllConnections();
        await closed;
        rmSync(directory, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
