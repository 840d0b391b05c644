import { once } from 'node:events';
import type { Socket } from 'node:net';
import { openConnection, readResponseUntilClose } from './support/platform-shutdown';
import { createOrg, createProjectTask } from './support/pt-helpers';
import { asTestApp, ServerProcess, sleep, startServerProcess } from './support/server-process';
import { BOUNDARY, MULTIPART } from './support/upload-helpers';
import { registerUser, SignedInUser } from './support/users';

/**
 * The real server process (src/main.ts, as `npm start` runs it, compiled on the fly) receiving
 * SIGTERM while requests are in flight: they complete within SHUTDOWN_TIMEOUT_MS, whatever it is
 * set to, the process keeps answering probes (readiness 503) meanwhile, then exits 0.
 */
describe('SIGTERM on the server process', () => {
  let server: ServerProcess;

  afterEach(() => server?.dispose());

  /** Starts an upload whose body then arrives a little at a time over `seconds`. */
  async function slowUpload(
    user: SignedInUser,
    taskId: string,
    seconds: number,
  ): Promise<{ socket: Socket; done: Promise<{ status: number }> }> {
    const chunks = seconds * 4;
    const chunk = 'slowly arriving text\n'.repeat(50);
    const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.txt"\r\nContent-Type: text/plain\r\n\r\n`;
    const tail = `\r\n--${BOUNDARY}--\r\n`;
    const length = Buffer.byteLength(head) + chunks * Buffer.byteLength(chunk) + Buffer.byteLength(tail);
    const socket = await openConnection(server.port);
    const done = readResponseUntilClose(socket);
    socket.write(
      `POST /api/v1/tasks/${taskId}/attachments HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${user.accessToken}\r\n` +
        `Content-Type: ${MULTIPART}\r\nContent-Length: ${length}\r\n\r\n${head}`,
    );
    void (async () => {
      for (let i = 0; i < chunks && !socket.destroyed; i++) {
        socket.write(chunk);
        await sleep(250);
      }
      if (!socket.destroyed) socket.write(tail);
    })();
    return { socket, done };
  }

  async function world(): Promise<{ user: SignedInUser; taskId: string }> {
    const t = asTestApp(server);
    const user = await registerUser(t);
    return { user, taskId: (await createProjectTask(t, user, await createOrg(t, user, 'Shutdown'))).taskId };
  }

  it('finishes the request in flight, answers readiness 503 meanwhile, and exits 0', async () => {
    server = await startServerProcess();
    const body = JSON.stringify({ email: 'in-flight@example.com', password: 'password-123', name: 'In Flight' });
    const socket = await openConnection(server.port);
    const response = readResponseUntilClose(socket);
    // Headers and half the body: the request is in the server's hands when the signal comes.
    socket.write(
      `POST /api/v1/auth/register HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, 20)}`,
    );
    await sleep(200);
    const signalled = Date.now();
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    await sleep(300);
    // Still listening: a probe on a new connection is told the instance is not ready.
    const probe = await fetch(`${server.url}/health/ready`);
    expect(probe.status).toBe(503);
    const late = await fetch(`${server.url}/api/v1/auth/me`);
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toBe('1');
    socket.write(body.slice(20));

    const res = await response;
    expect(res.status).toBe(201);
    expect(res.headers.connection).toBe('close');
    expect(JSON.parse(res.body).data.user.email).toBe('in-flight@example.com');

    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(5000);
    expect(server.output()).toContain('SIGTERM received');
    await expect(openConnection(server.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  }, 30_000);

  it('lets an upload in flight run for as long as SHUTDOWN_TIMEOUT_MS allows (20 s here), past 10 s', async () => {
    server = await startServerProcess({ SHUTDOWN_TIMEOUT_MS: '20000' });
    const { user, taskId } = await world();
    const { done } = await slowUpload(user, taskId, 12);
    await sleep(500);
    const signalled = Date.now();
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    const res = await done;
    expect(res.status).toBe(201);
    expect(Date.now() - signalled).toBeGreaterThan(10_000);
    const [code] = await exited;
    expect(code).toBe(0);
  }, 40_000);

  it('cuts what is still running once a short SHUTDOWN_TIMEOUT_MS (1 s) is over, and exits at once', async () => {
    server = await startServerProcess({ SHUTDOWN_TIMEOUT_MS: '1000' });
    const { user, taskId } = await world();
    const { socket, done } = await slowUpload(user, taskId, 10);
    socket.on('error', () => undefined);
    await sleep(500);
    const signalled = Date.now();
    const exited = once(server.child, 'exit');
    server.child.kill('SIGTERM');
    await done.catch(() => undefined);
    const [code] = await exited;
    const took = Date.now() - signalled;
    expect(code).toBe(0);
    expect(took).toBeGreaterThan(900);
    expect(took).toBeLessThan(5000);
  }, 30_000);
});
