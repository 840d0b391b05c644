import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorEnvelope } from './envelope.schemas';

export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'VALIDATION_FAILED, MALFORMED_BODY or INVALID_CURSOR',
  401: 'UNAUTHENTICATED: missing, malformed, expired or revoked credentials',
  403: 'FORBIDDEN: your role does not allow this action',
  404: 'NOT_FOUND',
  409: 'CONFLICT',
  412: 'PRECONDITION_FAILED: If-Match does not match the current ETag',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  416: 'RANGE_NOT_SATISFIABLE: the Range starts past the end of the file (Content-Range: bytes */size)',
  422: 'IDEMPOTENCY_KEY_REUSED',
  429: 'RATE_LIMITED; retry after Retry-After seconds',
  500: 'INTERNAL',
  503: 'UNAVAILABLE; retry after Retry-After seconds',
};

/** Documents error responses in the error envelope. 401, 429, 500, 503 (and 413 with a body) are added to every operation. */
export const ApiErrors = (...statuses: number[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    ...statuses.map((status) => ApiResponse({ status, description: ERROR_DESCRIPTIONS[status], type: ErrorEnvelope })),
  );

/** Documents a 204 (routes with @HttpCode(204) get no success response otherwise). */
export const ApiNoContent = (description: string): MethodDecorator =>
  applyDecorators(ApiResponse({ status: 204, description }));
