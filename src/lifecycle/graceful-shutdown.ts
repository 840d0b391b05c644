import type { INestApplication } from '@nestjs/common';
import type { Server, ServerResponse } from 'node:http';
import { ShutdownState } from '../health/shutdown-state';

/**
 * Tracks responses in flight so that shutdown can tell their connections to close once they
 * are answered. Install right after listen().
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
 * Readiness turns 503, the listener stops accepting connections, idle keep-alive sockets close,
 * requests in flight finish (their connections then close), and last the application closes
 * (database pool, revocation listener, Redis). Sockets still busy after `timeoutMs` are cut.
 */
export async function shutDownGracefully(
  app: INestApplication,
  inFlight: Set<ServerResponse>,
  timeoutMs: number,
): Promise<void> {
  app.get(ShutdownState).begin();
  const server = app.getHttpServer() as Server;
  for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
  server.on('request', (_req, res: ServerResponse) => res.setHeader('Connection', 'close'));

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
  await closed;
  clearTimeout(deadline);
  await app.close();
}
