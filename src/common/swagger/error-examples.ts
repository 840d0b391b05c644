import type { ErrorCode } from '../http/api-exception';

/** What an operation can refuse, as far as its error examples go. */
export interface OperationTraits {
  /** It takes a request body (JSON, a form or a file). */
  hasBody: boolean;
  /** POST, PUT or PATCH: a body sent to it is parsed, taken or not. */
  isWrite: boolean;
  /** It takes a `cursor` (a list). */
  isList: boolean;
  /** It takes an `Idempotency-Key`. */
  idempotent: boolean;
  /** Its first path parameter, to name in a validation example. */
  pathParameter?: string;
}

interface Example {
  summary: string;
  value: {
    error: {
      status: number;
      code: ErrorCode;
      message: string;
      details?: { field: string; message: string }[];
      requestId: string;
    };
  };
}

const REQUEST_ID = '6f1c2b9e-2f4e-4c1f-9d5e-1a2b3c4d5e6f';

function example(
  summary: string,
  status: number,
  code: ErrorCode,
  message: string,
  details?: { field: string; message: string }[],
): Example {
  const error = { status, code, message, ...(details ? { details } : {}), requestId: REQUEST_ID };
  return { summary, value: { error } };
}

/**
 * The examples of one error response: each of the codes the contract gives its status that this
 * operation can answer, with the server's own messages. Swagger UI shows them under the status,
 * so a 404 shows NOT_FOUND, not the 400 example of the error schema.
 */
export function errorExamples(status: number, traits: OperationTraits): Record<string, Example> {
  switch (status) {
    case 400: {
      const examples: Record<string, Example> = {};
      const detail = traits.hasBody
        ? { field: 'colour', message: 'property colour should not exist' }
        : traits.isList
          ? { field: 'limit', message: 'limit must not be greater than 100' }
          : traits.pathParameter && { field: traits.pathParameter, message: `${traits.pathParameter} must be a UUID` };
      if (detail || !traits.isWrite) {
        examples.VALIDATION_FAILED = example(
          traits.hasBody ? 'A field fails validation, or an unknown property is sent' : 'A parameter fails validation',
          400,
          'VALIDATION_FAILED',
          'Request validation failed',
          detail ? [detail] : undefined,
        );
      }
      // A write that takes no body still parses one sent with it.
      if (traits.hasBody || traits.isWrite) {
        examples.MALFORMED_BODY = example(
          'The body is not parseable',
          400,
          'MALFORMED_BODY',
          'The request body could not be parsed',
        );
      }
      if (traits.isList) {
        examples.INVALID_CURSOR = example(
          'The cursor is not one this list made',
          400,
          'INVALID_CURSOR',
          'The cursor is invalid for this list',
        );
      }
      return examples;
    }
    case 401:
      return {
        UNAUTHENTICATED: example(
          'Missing, malformed, expired or revoked credentials',
          401,
          'UNAUTHENTICATED',
          'Authentication required',
        ),
      };
    case 403:
      return {
        FORBIDDEN: example(
          'A member whose role does not allow this',
          403,
          'FORBIDDEN',
          'Your role does not allow this action',
        ),
      };
    case 404:
      return {
        NOT_FOUND: example(
          'No such resource, or one in an organization you are not a member of',
          404,
          'NOT_FOUND',
          'Resource not found',
        ),
      };
    case 409: {
      const examples: Record<string, Example> = {
        CONFLICT: example(
          'A uniqueness or state conflict',
          409,
          'CONFLICT',
          'The resource conflicts with an existing one',
        ),
      };
      if (traits.idempotent) {
        examples.IDEMPOTENCY_IN_PROGRESS = example(
          'The first request with this Idempotency-Key is still running',
          409,
          'IDEMPOTENCY_IN_PROGRESS',
          'A request with this Idempotency-Key is still being processed; retry shortly',
        );
      }
      return examples;
    }
    case 412:
      return {
        PRECONDITION_FAILED: example(
          'The resource changed since the ETag sent in If-Match',
          412,
          'PRECONDITION_FAILED',
          'If-Match does not match the current version of the resource',
        ),
      };
    case 413:
      return {
        PAYLOAD_TOO_LARGE: example(
          'The body or file is over its limit',
          413,
          'PAYLOAD_TOO_LARGE',
          'The request body is too large',
        ),
      };
    case 415:
      return {
        UNSUPPORTED_MEDIA_TYPE: example(
          'The Content-Type, or the bytes of an upload, are not accepted here',
          415,
          'UNSUPPORTED_MEDIA_TYPE',
          'Content-Type must be application/json',
        ),
      };
    case 416:
      return {
        RANGE_NOT_SATISFIABLE: example(
          'The Range starts past the end of the file',
          416,
          'RANGE_NOT_SATISFIABLE',
          'The range is outside the file (1024 bytes)',
        ),
      };
    case 422:
      return {
        IDEMPOTENCY_KEY_REUSED: example(
          'The Idempotency-Key was used with a different request',
          422,
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used with a different request',
        ),
      };
    case 429:
      return {
        RATE_LIMITED: example(
          'Over a rate limit (see Retry-After)',
          429,
          'RATE_LIMITED',
          'Too many requests; retry later',
        ),
      };
    case 500:
      return {
        INTERNAL: example('Anything unexpected; logged with the request id', 500, 'INTERNAL', 'Internal server error'),
      };
    case 503:
      return {
        UNAVAILABLE: example(
          'The database is unreachable or the instance is shutting down (see Retry-After)',
          503,
          'UNAVAILABLE',
          'The database is unavailable; retry shortly',
        ),
      };
    default:
      throw new Error(`No error examples for status ${status}: add them to error-examples.ts`);
  }
}

/** The examples of the token endpoint's RFC 6749 §5.2 error responses. */
export function oauthErrorExamples(status: number): Record<string, { summary: string; value: object }> {
  if (status === 429) {
    return {
      invalid_request: {
        summary: 'Too many sign-in attempts (see Retry-After)',
        value: { error: 'invalid_request', error_description: 'Too many requests; retry later' },
      },
    };
  }
  if (status !== 400) throw new Error(`No OAuth error examples for status ${status}`);
  return {
    invalid_grant: {
      summary: 'Wrong email or password, or an invalid refresh token',
      value: { error: 'invalid_grant', error_description: 'Invalid email or password' },
    },
    invalid_request: {
      summary: 'A parameter is missing or invalid',
      value: {
        error: 'invalid_request',
        error_description: 'username and password are required for the password grant',
      },
    },
    unsupported_grant_type: {
      summary: 'A grant other than password and refresh_token',
      value: { error: 'unsupported_grant_type', error_description: 'grant_type must be password or refresh_token' },
    },
  };
}
