import { randomBytes, randomInt } from 'node:crypto';
import { Agent, IncomingHttpHeaders, request } from 'node:http';

// A small HTTP client for the cluster test: raw bytes in and out, keep-alive, a per-request
// deadline, and a client address of its own for every request (see clientIp).

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The body parsed as JSON (undefined when empty or not JSON). */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** The client address the request claimed (X-Forwarded-For), to tell in a failure report. */
  sentFor: string;
}

export interface HttpOptions {
  headers?: Record<string, string>;
  /** An object is sent as JSON; a Buffer as is (set its Content-Type in headers). */
  body?: unknown;
  /** Bearer token. */
  token?: string;
  /**
   * The client address the instances should see: sent as X-Forwarded-For, which they trust from
   * loopback (TRUST_PROXY=loopback) and which nginx extends. Default: a fresh random address per
   * request, so that the per-client rate limit only bites where a test means it to.
   */
  ip?: string;
  timeoutMs?: number;
}

/** A random address in 198.18.0.0/15 (reserved for benchmarking, never a real client). */
export function clientIp(): string {
  return `198.${18 + randomInt(2)}.${randomInt(256)}.${randomInt(1, 255)}`;
}

export const agent = new Agent({ keepAlive: true, maxSockets: 256, keepAliveMsecs: 1000 });

export function send(baseUrl: string, method: string, path: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const url = new URL(path, baseUrl);
  const headers: Record<string, string> = { 'X-Forwarded-For': options.ip ?? clientIp(), ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let payload: Buffer | undefined;
  if (Buffer.isBuffer(options.body)) payload = options.body;
  else if (options.body !== undefined) {
    payload = Buffer.from(JSON.stringify(options.body));
    headers['Content-Type'] ??= 'application/json';
  }
  if (payload) headers['Content-Length'] = String(payload.length);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        let json: unknown;
        if (/json/.test(String(res.headers['content-type'])) && body.length > 0) {
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch {
            json = undefined;
          }
        }
        resolve({ status: res.statusCode!, headers: res.headers, body, json, sentFor: headers['X-Forwarded-For'] });
      });
    });
    req.setTimeout(options.timeoutMs ?? 15_000, () => req.destroy(new Error(`${method} ${url} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A multipart/form-data body with one file field. */
export function multipartFile(
  field: string,
  filename: string,
  contentType: string,
  bytes: Buffer,
): { body: Buffer; contentType: string } {
  const boundary = `----cluster${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return { body: Buffer.concat([head, bytes, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}
