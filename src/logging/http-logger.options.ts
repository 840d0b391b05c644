import { RequestMethod } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthenticatedRequest } from '../common/auth/auth-user';
import { assignRequestId } from '../common/http/request-id';
import type { AppConfig } from '../config/app-config';

type LoggedRequest = IncomingMessage & AuthenticatedRequest & { route?: { path: string }; baseUrl?: string };

/**
 * One JSON line per request with its id, the user, the route template, status and duration;
 * credentials and passwords are redacted wherever they appear.
 */
export function httpLoggerOptions(config: AppConfig): Params {
  return {
    // Every route, prefixed or not, once (the default adds excluded routes a second time).
    forRoutes: [{ path: '{/*splat}', method: RequestMethod.ALL }],
    pinoHttp: {
      level: config.env.LOG_LEVEL,
      genReqId: (req: IncomingMessage, res: ServerResponse) => assignRequestId(req, res),
      // The user and the route template, known only once the response is sent, go into the
      // response's log line itself, before `res` and `responseTime` (where pino-http's
      // customProps would put them, but at the cost of two child loggers per request).
      customSuccessObject: (req: IncomingMessage, _res: ServerResponse, line: object) => ({
        ...requestProps(req),
        ...line,
      }),
      customErrorObject: (req: IncomingMessage, _res: ServerResponse, _error: Error, line: object) => ({
        ...requestProps(req),
        ...line,
      }),
      customLogLevel: (_req, res, error) =>
        error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          url: req.url,
          remoteAddress: req.remoteAddress,
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
          '*.password',
          '*.currentPassword',
          '*.newPassword',
          '*.refreshToken',
          '*.accessToken',
        ],
        censor: '[redacted]',
      },
      // Outside production, logs are still JSON: pipe them through pino-pretty to read them.
    },
  };
}

function requestProps(req: IncomingMessage): { userId?: string; route?: string } {
  const r = req as LoggedRequest;
  return { userId: r.user?.id, route: r.route ? `${r.baseUrl ?? ''}${r.route.path}` : undefined };
}
