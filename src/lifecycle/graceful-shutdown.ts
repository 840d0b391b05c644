import type { INestApplication } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Server, ServerResponse } from 'node:http';
import { sendError } from '../common/http/all-exceptions.filter';
import { assignRequestId } from '../common/http/request-id';
import { ShutdownState } from '../health/shutdown-state';

/** What stays answered while shutdown drains: the probes and the metrics that watch it. */
const DURING_DRAIN = new Set(['/health/live', '/health/ready', '/metrics']);

/** How long closing the application (database pool, listeners) may take after the drain. */
export const CLOSE_GRACE_MS = 5000;

/**
 * Tracks responses in flight so that shutdown can wait for them and tell their connections to
 * close once they are answered. Install right after listen().
 */
export function trackInFlight(server: Server): Set<ServerResponse> {
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    inFlight.add(res);
    res.once('close', () => inFlight.delete(res));
  });
  return inFlight;
}

/**
 * Express middleware: once shutdown has begun, a new request (other than health and metrics) is
 * answered 503 UNAVAILABLE with Retry-After, on a connection that then closes, so that the client
 * or the load balancer retries on another instance. The listener stays open meanwhile: what the
 * balancer sees is readiness 503, not a refused connection.
 */
export function refuseWhileDraining(state: ShutdownState) {
  return (req: Request, res: Response, next: () => void): void => {
    if (!state.isShuttingDown || DURING_DRAIN.has(req.path)) return next();
    res.setHeader('Connection', 'close');
    sendError(res, assignRequestId(req, res), {
      status: 503,
      code: 'UNAVAILABLE',
      message: 'This instance is shutting down; retry',
      headers: { 'Retry-After': '1' },
    });
  };
}

const closedAll = (responses: ServerResponse[]): Promise<void> =>
  Promise.all(
    responses.map((res) =>
      res.closed ? undefined : new Promise<void>((resolve) => res.once('close', () => resolve())),
    ),
  ).then(() => undefined);

/**
 * Readiness turns 503 and new requests get 503 (see refuseWhileDraining) while the requests in
 * flight finish, for at most `timeoutMs`; every response from then on closes its connection.
 * Then the listener closes, remaining connections (idle, or still busy at the deadline) are cut,
 * and last the application closes (database pool, revocation listener, Redis).
 */
export async function shutDownGracefully(
  app: INestApplication,
  inFlight: Set<ServerResponse>,
  timeoutMs: number,
): Promise<void> {
  app.get(ShutdownState).begin();
  const server = app.getHttpServer() as Server;
  const draining = [...inFlight];
  for (const res of draining) if (!res.headersSent) res.setHeader('Connection', 'close');
  server.prependListener('request', (_req, res: ServerResponse) => res.setHeader('Connection', 'close'));
  server.closeIdleConnections();

  let deadline: NodeJS.Timeout | undefined;
  await Promise.race([
    closedAll(draining),
    new Promise<void>((resolve) => (deadline = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(deadline);

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
  await app.close();
}
