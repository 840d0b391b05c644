import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Level, Logger } from 'pino';
import type { AuthenticatedRequest } from '../auth/auth-user';
import { assignRequestId } from './request-id';

type LoggedRequest = IncomingMessage &
  AuthenticatedRequest & { originalUrl?: string; route?: { path: string }; baseUrl?: string };

/**
 * One JSON line per request, written when the response is finished (or the connection closed
 * before it was): the request (id, method, URL, peer), the user (or API key) and the route template when
 * known, the status, the time taken in ms. Secret query parameters (`token`) are masked. 5xx lines are errors; 4xx and aborted ones warnings.
 *
 * Written by hand rather than with pino-http and nestjs-pino: those build two child loggers
 * per request and run every request inside an AsyncLocalStorage, which made every promise of
 * the request pay async hooks; together about half of the platform's cost per request
 * (BENCHMARKS.md). Logs written during a request carry its id explicitly (`requestId`).
 */
/** Query parameters that carry a secret (the token of an invitation link), masked in the log. */
const SECRET_QUERY = /([?&]token=)[^&#]*/gi;

export const loggedUrl = (url: string): string => (url.includes('?') ? url.replace(SECRET_QUERY, '$1[redacted]') : url);

/** Told of every response once it is done (or its connection closed first), with its duration. */
export type ResponseObserver = (req: IncomingMessage, res: ServerResponse, durationMs: number) => void;

/**
 * The middleware. One `close` listener per request does it all — ServerResponse emits `close`
 * once, after `finish` for a response sent in full, alone when the connection went first — and
 * also tells `observers` (the HTTP metrics), so that they need no listener and no middleware of
 * their own: per-request listeners and router layers were a measurable part of a request's CPU
 * (BENCHMARKS.md, issue #16).
 */
export function requestLogger(logger: Logger, observers: readonly ResponseObserver[] = []) {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    const started = performance.now();
    const id = assignRequestId(req, res);
    res.on('close', () => {
      const durationMs = performance.now() - started;
      for (const observe of observers) observe(req, res, durationMs);
      const status = res.statusCode;
      const aborted = !res.writableFinished;
      const level: Level = status >= 500 ? 'error' : status >= 400 || aborted ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const r = req as LoggedRequest;
      const line: Record<string, unknown> = {
        req: {
          id,
          method: req.method,
          url: loggedUrl(r.originalUrl ?? req.url ?? ''),
          remoteAddress: req.socket.remoteAddress,
        },
        userId: r.user?.id,
        apiKeyId: r.principal?.kind === 'apiKey' ? r.principal.id : undefined,
        route: r.route ? `${r.baseUrl ?? ''}${r.route.path}` : undefined,
        res: { statusCode: status },
      };
      if (status >= 500) line.err = new Error(`failed with status code ${status}`);
      line.responseTime = Math.round(durationMs);
      const message = aborted ? 'request aborted' : status >= 500 ? 'request errored' : 'request completed';
      logger[level](line, message);
    });
    next();
  };
}
