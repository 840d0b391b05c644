import { createServer, Socket } from 'node:net';

/**
 * A PostgreSQL wire-protocol tap: a TCP proxy in front of PostgreSQL that forwards every byte
 * unchanged and records, from a copy of what clients send (protocol 3.0, no TLS), each statement
 * they run — so that the benchmarks can check that two servers send the same SQL for the same
 * request (bench/run.ts), and explain the statements a server really sends (bench/data-scale.ts),
 * whatever driver or framework builds them.
 *
 * A simple Query ('Q') is one statement. In the extended protocol a Parse ('P') gives a
 * statement's text a name ('' for the unnamed one) and a Bind ('B') runs it with parameters, so
 * a Bind is recorded with the text its Parse gave — whether that Parse came in the same round
 * trip or once, long before, on the same connection (a named prepared statement). Connections
 * are told apart by the application_name of their startup message.
 */
export interface TappedStatement {
  text: string;
  /** Parameters as text (binary ones as `\x…` hex), null for SQL NULL; [] for a simple query. */
  values: (string | null)[];
  /** The prepared statement's name: '' for the unnamed statement and for a simple query. */
  name: string;
  /** A simple Query message, or Parse/Bind (the extended protocol). */
  protocol: 'simple' | 'extended';
  /** application_name of the connection that sent it. */
  application: string;
}

export interface PgTap {
  /** `target` with the tap's address instead of the server's. */
  url: string;
  /** Every statement executed through the tap so far (since the last `take`), in order. */
  statements: TappedStatement[];
  /** The statements recorded since the last call, forgetting them. */
  take(): TappedStatement[];
  close(): Promise<void>;
}

const SSL_REQUEST = 80_877_103;
const GSSENC_REQUEST = 80_877_104;

function cString(buffer: Buffer, from: number): { value: string; next: number } {
  const end = buffer.indexOf(0, from);
  return { value: buffer.toString('utf8', from, end), next: end + 1 };
}

/** Reads one client connection's messages as they pass. */
class ClientMessages {
  private pending: Buffer = Buffer.alloc(0);
  private startup = true;
  private application = '';
  /** statement name → text, as this connection's Parse messages defined them */
  private readonly prepared = new Map<string, string>();

  constructor(private readonly record: (statement: TappedStatement) => void) {}

  feed(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.startup) {
        if (this.pending.length < 8) return;
        const length = this.pending.readInt32BE(0);
        if (this.pending.length < length) return;
        const code = this.pending.readInt32BE(4);
        // After an SSL or GSS request refused ('N'), the real startup message follows.
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) {
          this.startup = false;
          this.readStartup(this.pending.subarray(8, length));
        }
        this.pending = this.pending.subarray(length);
        continue;
      }
      if (this.pending.length < 5) return;
      const length = this.pending.readInt32BE(1);
      if (this.pending.length < 1 + length) return;
      const type = String.fromCharCode(this.pending[0]);
      const body = this.pending.subarray(5, 1 + length);
      this.pending = this.pending.subarray(1 + length);
      this.readMessage(type, body);
    }
  }

  private readStartup(body: Buffer): void {
    for (let at = 0; at < body.length && body[at] !== 0;) {
      const key = cString(body, at);
      const value = cString(body, key.next);
      if (key.value === 'application_name') this.application = value.value;
      at = value.next;
    }
  }

  private readMessage(type: string, body: Buffer): void {
    const application = this.application;
    if (type === 'Q') {
      this.record({ text: cString(body, 0).value, values: [], name: '', protocol: 'simple', application });
    } else if (type === 'P') {
      const name = cString(body, 0);
      this.prepared.set(name.value, cString(body, name.next).value);
    } else if (type === 'B') {
      const portal = cString(body, 0);
      const name = cString(body, portal.next);
      let at = name.next;
      const formatCount = body.readInt16BE(at);
      const formats: number[] = [];
      at += 2;
      for (let i = 0; i < formatCount; i++, at += 2) formats.push(body.readInt16BE(at));
      const count = body.readInt16BE(at);
      at += 2;
      const values: (string | null)[] = [];
      for (let i = 0; i < count; i++) {
        const size = body.readInt32BE(at);
        at += 4;
        if (size < 0) {
          values.push(null);
          continue;
        }
        const format = formats.length === 0 ? 0 : formats.length === 1 ? formats[0] : formats[i];
        const bytes = body.subarray(at, at + size);
        values.push(format === 0 ? bytes.toString('utf8') : `\\x${bytes.toString('hex')}`);
        at += size;
      }
      const text = this.prepared.get(name.value) ?? '';
      this.record({ text, values, name: name.value, protocol: 'extended', application });
    }
  }
}

/** Starts a tap on 127.0.0.1 (an ephemeral port) in front of `target`'s server. */
export async function startPgTap(target: string): Promise<PgTap> {
  const upstream = new URL(target);
  const tap = { statements: [] as TappedStatement[] };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const database = new Socket();
    sockets.add(client).add(database);
    database.connect(Number(upstream.port || 5432), upstream.hostname);
    client.pipe(database);
    database.pipe(client);
    const close = () => {
      client.destroy();
      database.destroy();
      sockets.delete(client);
      sockets.delete(database);
    };
    client.on('error', close).on('close', close);
    database.on('error', close).on('close', close);
    const messages = new ClientMessages((statement) => tap.statements.push(statement));
    client.on('data', (chunk: Buffer) => messages.feed(chunk));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as { port: number }).port);
  return {
    url: url.toString(),
    get statements() {
      return tap.statements;
    },
    take() {
      const taken = tap.statements;
      tap.statements = [];
      return taken;
    },
    close: () =>
      new Promise<void>((done) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => done());
      }),
  };
}
