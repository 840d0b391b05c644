import { createServer, IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedHook {
  path: string;
  method: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as sent. */
  body: string;
  at: number;
}

/** How the receiver answers its n-th request (0-based): a status, a redirect, or no answer at all. */
export type Answer = { status: number; location?: string } | 'hang';

/**
 * A real HTTP server on 127.0.0.1 standing in for a webhook receiver: it keeps every request it
 * gets, raw, and answers as `answer` says (204 by default).
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging = new Set<ServerResponse>();

  constructor(private answer: (index: number) => Answer = () => ({ status: 204 })) {}

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  answerWith(answer: (index: number) => Answer): void {
    this.answer = answer;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const index = this.received.length;
        this.received.push({
          path: req.url ?? '',
          method: req.method ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        });
        const answer = this.answer(index);
        if (answer === 'hang') return void this.hanging.add(res);
        res.writeHead(answer.status, answer.location ? { location: answer.location } : {}).end('ignored body');
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The requests whose body has this event type. */
  ofType(type: string): ReceivedHook[] {
    return this.received.filter((hook) => (JSON.parse(hook.body) as { type: string }).type === type);
  }

  /** Waits until `count` requests (matching `filter`) have arrived, or fails after `timeoutMs`. */
  async waitFor(
    count: number,
    { timeoutMs = 10_000, filter = (_hook: ReceivedHook): boolean => true } = {},
  ): Promise<ReceivedHook[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const matching = this.received.filter(filter);
      if (matching.length >= count) return matching;
      if (Date.now() > deadline) {
        throw new Error(`The receiver got ${matching.length} of ${count} requests within ${timeoutMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** The event a request carries, after checking its signature with the `standardwebhooks` verifier. */
export function verified<T = Record<string, unknown>>(hook: ReceivedHook, secret: string): T {
  const headers = {
    'webhook-id': String(hook.headers['webhook-id']),
    'webhook-timestamp': String(hook.headers['webhook-timestamp']),
    'webhook-signature': String(hook.headers['webhook-signature']),
  };
  return new Webhook(secret).verify(hook.body, headers) as T;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
