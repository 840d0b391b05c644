import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import { AppLogger } from '../../logging/app-logger';
import { classifyDatabaseError } from '../../database/database-errors';
import { ApiException, ErrorCode, ErrorDetail, clipped, MAX_DETAIL_MESSAGE } from './api-exception';
import { MAX_BODY_DEPTH, MAX_JSON_VALUES } from './input-inspection';
import { assignRequestId } from './request-id';

export interface ErrorBody {
  error: { status: number; code: ErrorCode; message: string; details?: ErrorDetail[]; requestId: string };
}

export interface Described {
  status: number;
  code: ErrorCode;
  message: string;
  details?: ErrorDetail[];
  headers?: Record<string, string>;
}

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'VALIDATION_FAILED',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/** Errors raised by body-parser before a route runs, by their `type`. */
const BODY_PARSER_ERRORS: Record<string, Omit<Described, 'headers'>> = {
  'entity.parse.failed': { status: 400, code: 'MALFORMED_BODY', message: 'The request body could not be parsed' },
  'entity.verify.failed': { status: 400, code: 'MALFORMED_BODY', message: 'The request body could not be parsed' },
  'request.aborted': { status: 400, code: 'MALFORMED_BODY', message: 'The request body was not received in full' },
  'request.size.invalid': {
    status: 400,
    code: 'MALFORMED_BODY',
    message: 'The request body length does not match Content-Length',
  },
  'entity.too.large': { status: 413, code: 'PAYLOAD_TOO_LARGE', message: 'The request body is too large' },
  'entity.too.deep': {
    status: 400,
    code: 'MALFORMED_BODY',
    message: `The request body is nested more than ${MAX_BODY_DEPTH} levels deep`,
  },
  'entity.too.many.values': {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: `The JSON body holds more than ${MAX_JSON_VALUES} values (arrays, objects, members and items)`,
  },
  'parameters.too.many': {
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: 'The request body has too many parameters',
  },
  'encoding.unsupported': {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'The request body encoding is not supported',
  },
  'charset.unsupported': {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'The request body charset is not supported',
  },
};

/**
 * The one place where errors become responses: every error leaves as the contract's error
 * envelope, and nothing internal (stack, SQL, driver text) reaches the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger: Logger;

  constructor(logger: AppLogger) {
    this.logger = logger.pino.child({ context: AllExceptionsFilter.name });
  }

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const requestId = assignRequestId(req, res);
    const described = this.describe(exception, req);

    if (described.status >= 500 && described.code === 'INTERNAL') {
      this.logger.error({ err: exception, requestId }, 'Unhandled error');
    } else if (described.status >= 500) {
      this.logger.warn({ err: exception, requestId }, described.message);
    } else if (described.code === 'VALIDATION_FAILED' && !(exception instanceof HttpException)) {
      // The database refused a value that validation let through: answered, but worth fixing.
      this.logger.warn(
        { err: exception, requestId },
        'A value reached the database that validation should have refused',
      );
    }

    sendError(res, requestId, described);
  }

  private describe(thrown: unknown, req: Request): Described {
    // An ApiException thrown by a body-parser `verify` arrives wrapped like the parser's own errors.
    const exception = thrown instanceof HttpException && thrown.cause instanceof ApiException ? thrown.cause : thrown;
    if (exception instanceof ApiException) {
      return {
        status: exception.getStatus(),
        code: exception.code,
        message: exception.message,
        details: exception.details,
        headers: exception.headers,
      };
    }
    // Express hands body-parser errors over wrapped in an HttpException, the original as cause.
    const parserError = (exception instanceof HttpException ? exception.cause : exception) as { type?: unknown } | null;
    if (typeof parserError?.type === 'string' && parserError.type in BODY_PARSER_ERRORS) {
      return BODY_PARSER_ERRORS[parserError.type];
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404 && /^Cannot [A-Z]+ /.test(exception.message)) {
        return routeNotFound(req);
      }
      const code = CODE_BY_STATUS[status] ?? (status >= 500 ? 'INTERNAL' : 'VALIDATION_FAILED');
      const message = status >= 500 ? 'Internal server error' : exception.message;
      return { status, code, message };
    }
    const database = classifyDatabaseError(exception);
    if (database) {
      return {
        status: database.status,
        code: database.code,
        message: database.message,
        headers: database.retryAfterSeconds ? { 'Retry-After': String(database.retryAfterSeconds) } : undefined,
      };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, code: 'INTERNAL', message: 'Internal server error' };
  }
}

export function routeNotFound(req: Request): Described {
  return { status: 404, code: 'NOT_FOUND', message: `No route for ${req.method} ${req.originalUrl.split('?')[0]}` };
}

export function sendError(res: Response, requestId: string, described: Described): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  for (const [name, value] of Object.entries(described.headers ?? {})) res.setHeader(name, value);
  const body: ErrorBody = {
    error: {
      status: described.status,
      code: described.code,
      // Messages can name client data (the path of an unknown route): within the documented length.
      message: clipped(described.message, MAX_DETAIL_MESSAGE),
      ...(described.details ? { details: described.details } : {}),
      requestId,
    },
  };
  res.status(described.status).json(body);
}
