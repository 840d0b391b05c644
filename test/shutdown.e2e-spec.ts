import { Controller, Get, Module } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Public } from '../src/common/decorators/public.decorator';
import { expectError } from './support/envelope';
import { ShutdownState } from '../src/health/shutdown-state';
import { shutDownGracefully } from '../src/lifecycle/graceful-shutdown';
import {
  createShutdownTestApp,
  openConnection,
  readResponseUntilClose,
  ShutdownTestApp,
} from './support/platform-shutdown';

const SLOW_MS = 1500;

/** Resolves each time the slow route starts handling a request. */
let slowStarted: () => void = () => undefined;
const nextSlowStart = (): Promise<void> => new Promise((resolve) => (slowStarted = resolve));
/** Handlers still sleeping, so that no test leaves a timer behind. */
const sleeping = new Set<Promise<unknown>>();

@ApiExcludeController()
@Public()
@Controller('test')
class SlowController {
  @Get('slow')
  async slow(): Promise<{ ok: boolean }> {
    slowStarted();
    const nap = sleep(SLOW_MS);
    sleeping.add(nap);
    await nap;
    sleeping.delete(nap);
    return { ok: true };
  }
}

@Module({ controllers: [SlowController] })
class SlowModule {}

const expectRefused = (port: number): Promise<void> =>
  expect(openConnection(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

describe('graceful shutdown', () => {
  let s: ShutdownTestApp;

  beforeEach(async () => {
    s = await createShutdownTestApp([SlowModule]);
  });
  afterEach(async () => {
    await Promise.all(sleeping);
    await s.dispose();
  });

  it('finishes requests in flight while still answering: readiness 503, new requests 503; then closes', async () => {
    const { t, inFlight, port } = s;
    await t.http().get('/health/ready').expect(200);

    // A request in flight when shutdown begins, on a keep-alive connection.
    const started = nextSlowStart();
    const client = await openConnection(port);
    const slow = readResponseUntilClose(client).then((res) => ({ res, at: Date.now() }));
    client.write('GET /api/v1/test/slow HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    await started;

    // A client already connected, half-way through sending a readiness check.
    const probe: Socket = await openConnection(port);
    const probeResponse = readResponseUntilClose(probe);
    probe.write('GET /health/ready HTTP/1.1\r\nHost: localhost\r\n');
    await sleep(100); // let the server read the request line

    const shutdownBegan = Date.now();
    let shutdownSettled = false;
    const shutdown = shutDownGracefully(t.app, inFlight, 8000).then(() => {
      shutdownSettled = true;
      return Date.now();
    });
    expect(t.app.get(ShutdownState).isShuttingDown).toBe(true);

    // The readiness check that arrives during shutdown is 503 and its connection is closed.
    probe.write('\r\n');
    const ready = await probeResponse;
    expect(ready.status).toBe(503);
    expect(ready.headers['connection']).toBe('close');
    expect(ready.headers['retry-after']).toBe('5');
    const readyBody = JSON.parse(ready.body);
    expect(readyBody.status).toBe('error');
    expect(readyBody.error.shutdown).toEqual({ status: 'down', message: 'shutting down' });

    // The listener stays open while the request drains: a load balancer probing now sees
    // readiness 503 and liveness 200 on new connections, not a refused connection...
    const newProbe = await t.http().get('/health/ready');
    expect(newProbe.status).toBe(503);
    expect(newProbe.headers.connection).toBe('close');
    await t.http().get('/health/live').expect(200);
    // ...and a new API request is 503 UNAVAILABLE with Retry-After, its connection closed.
    const late = await t.http().get('/api/v1/test/slow');
    expectError(late, 503, 'UNAVAILABLE');
    expect(late.headers['retry-after']).toBe('1');
    expect(late.headers.connection).toBe('close');

    // Shutdown waits for the request in flight, which completes normally; its keep-alive
    // connection is then closed.
    expect(shutdownSettled).toBe(false);
    const { res, at: slowFinished } = await slow;
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(res.body)).toEqual({ data: { ok: true }, meta: { requestId: res.headers['x-request-id'] } });
    expect(res.headers['connection']).toBe('close');

    // Shutdown resolves once it has, closing the listener then.
    const shutdownDone = await shutdown;
    expect(shutdownDone - shutdownBegan).toBeGreaterThan(SLOW_MS - 500);
    expect(shutdownDone - shutdownBegan).toBeLessThan(5000);
    expect(Math.abs(shutdownDone - slowFinished)).toBeLessThan(1000);
    expect(t.dataSource.isInitialized).toBe(false); // the application closed (database pool)
    await expectRefused(port);
  });

  it('does not wait for idle keep-alive connections', async () => {
    const { t, inFlight, port } = s;
    const idle = await openConnection(port);
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    idle.write('GET /health/live HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    await new Promise((resolve) => idle.once('data', resolve)); // answered; the connection stays open

    const began = Date.now();
    await shutDownGracefully(t.app, inFlight, 8000);
    expect(Date.now() - began).toBeLessThan(1000);
    await idleClosed;
  });

  it('cuts requests still running at the deadline', async () => {
    const { t, inFlight } = s;
    const started = nextSlowStart();
    const slow = t
      .http()
      .get('/api/v1/test/slow')
      .then(
        (res) => res.status,
        (error: NodeJS.ErrnoException) => error.code,
      );
    await started;

    const began = Date.now();
    await shutDownGracefully(t.app, inFlight, 200);
    expect(Date.now() - began).toBeLessThan(SLOW_MS);
    expect(await slow).toBe('ECONNRESET');
  });
});
