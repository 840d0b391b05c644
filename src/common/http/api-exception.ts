import { HttpException, HttpStatus } from '@nestjs/common';

export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'MALFORMED_BODY'
  | 'INVALID_CURSOR'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'PRECONDITION_FAILED'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'RANGE_NOT_SATISFIABLE'
  | 'RATE_LIMITED'
  | 'INTERNAL'
  | 'UNAVAILABLE';

export const ERROR_CODES: readonly ErrorCode[] = [
  'VALIDATION_FAILED',
  'MALFORMED_BODY',
  'INVALID_CURSOR',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'NOT_FOUND',
  'CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_IN_PROGRESS',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'RANGE_NOT_SATISFIABLE',
  'RATE_LIMITED',
  'INTERNAL',
  'UNAVAILABLE',
];

export interface ErrorDetail {
  field: string;
  message: string;
}

/** The longest `field` and `message` of a detail, as the OpenAPI document says. */
export const MAX_DETAIL_FIELD = 256;
export const MAX_DETAIL_MESSAGE = 1024;

/** `text` cut to `max` UTF-16 units, ending in `…` when cut (never in half a surrogate pair). */
export function clipped(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  if (/[\uD800-\uDBFF]/.test(text[end - 1])) end--;
  return `${text.slice(0, end)}…`;
}

/**
 * A detail within the documented lengths. Field names can be the client's own (an unknown
 * property of any length): a long one is cut, and cut the same way where the message names it.
 */
function boundedDetail({ field, message }: ErrorDetail): ErrorDetail {
  const short = clipped(field, MAX_DETAIL_FIELD);
  const named = short === field ? message : message.split(field).join(short);
  return { field: short, message: clipped(named, MAX_DETAIL_MESSAGE) };
}

/** An error with the contract's code; the exception filter turns it into the error envelope. */
export class ApiException extends HttpException {
  /** What went wrong where, each within the documented lengths (a field name is client data). */
  readonly details?: ErrorDetail[];

  constructor(
    status: HttpStatus,
    readonly code: ErrorCode,
    message: string,
    details?: ErrorDetail[],
    /** Extra response headers, such as Retry-After or WWW-Authenticate. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message, status);
    this.details = details?.map(boundedDetail);
  }

  /** 400 VALIDATION_FAILED with these details (the one shape of every validation error). */
  static validationFailed(details: ErrorDetail[]): ApiException {
    return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request validation failed', details);
  }

  /** 400 VALIDATION_FAILED naming one field. */
  static invalidField(field: string, message: string): ApiException {
    return ApiException.validationFailed([{ field, message }]);
  }

  static notFound(what = 'Resource'): ApiException {
    return new ApiException(HttpStatus.NOT_FOUND, 'NOT_FOUND', `${what} not found`);
  }

  static forbidden(message = 'Your role does not allow this action'): ApiException {
    return new ApiException(HttpStatus.FORBIDDEN, 'FORBIDDEN', message);
  }

  static conflict(message: string): ApiException {
    return new ApiException(HttpStatus.CONFLICT, 'CONFLICT', message);
  }

  static unauthenticated(message = 'Authentication required'): ApiException {
    return new ApiException(HttpStatus.UNAUTHORIZED, 'UNAUTHENTICATED', message, undefined, {
      'WWW-Authenticate': 'Bearer realm="tasklane"',
    });
  }

  static preconditionFailed(): ApiException {
    return new ApiException(
      HttpStatus.PRECONDITION_FAILED,
      'PRECONDITION_FAILED',
      'If-Match does not match the current version of the resource',
    );
  }

  static rateLimited(retryAfterSeconds: number): ApiException {
    return new ApiException(HttpStatus.TOO_MANY_REQUESTS, 'RATE_LIMITED', 'Too many requests; retry later', undefined, {
      'Retry-After': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
  }
}
