import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { openConnection, readResponseUntilClose } from './support/platform-shutdown';
import { createTestDatabase, TEST_JWT_SECRET } from './support/test-app';

const ROOT = resolve(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The real server process (src/main.ts, as `npm start` runs it, compiled on the fly) receiving
 * SIGTERM while a request is in flight: the request completes, then the process exits 0.
 */
describe('SIGTERM on the server process', () => {
  let server: ChildProcess;
  let database: { url: string; drop(): Promise<void> };
  let port: number;
  let output = '';

  beforeAll(async () => {
    database = await createTestDatabase();
    port = await freePort();
    server = spawn(process.execPath, ['-r', './tools/swc-register.js', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        DATABASE_URL: database.url,
        PORT: String(port),
        HOST: '127.0.0.1',
        JWT_SECRET: TEST_JWT_SECRET,
        LOG_LEVEL: 'silent',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = Date.now();
    while (!output.includes('listening on')) {
      if (server.exitCode !== null || Date.now() - started > 25_000)
        throw new Error(`server did not start:\n${output}`);
      await sleep(50);
    }
  }, 30_000);

  afterAll(async () => {
    if (server.exitCode === null) server.kill('SIGKILL');
    await database.drop();
  });

  it('finishes the request in flight, refuses new connections and exits 0 within 10 s', async () => {
    const body = JSON.stringify({ email: 'in-flight@example.com', password: 'password-123', name: 'In Flight' });
    const socket = await openConnection(port);
    const response = readResponseUntilClose(socket);
    // Headers and half the body: the request is in the server's hands when the signal comes.
    socket.write(
      `POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
    );
    await sleep(200);
    const signalled = Date.now();
    const exited = once(server, 'exit');
    server.kill('SIGTERM');
    await sleep(300);
    await expect(openConnection(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    socket.write(body.slice(20));

    const res = await response;
    expect(res.status).toBe(201);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body).data.user.email).toBe('in-flight@example.com');

    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(10_000);
    expect(output).toContain('SIGTERM received');
  }, 20_000);
});
