import type { components } from './schema';

export type ErrorEnvelope = components['schemas']['ErrorEnvelope'];
export type ErrorCode = components['schemas']['ErrorCode'];
export type ErrorDetail = components['schemas']['ErrorDetail'];

function isEnvelope(body: unknown): body is ErrorEnvelope {
  const error = (body as { error?: unknown } | null)?.error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}

/**
 * A response that is not a success: the API's error envelope
 * `{error: {status, code, message, details?, requestId}}`, unpacked. A response without the
 * envelope (from a proxy in between, say) gets the code `UNEXPECTED_RESPONSE`; its body is in `body`.
 */
export class TasklaneError extends Error {
  override readonly name = 'TasklaneError';
  readonly status: number;
  readonly code: ErrorCode | 'UNEXPECTED_RESPONSE';
  /** What was wrong with the request, field by field (VALIDATION_FAILED); else empty. */
  readonly details: ErrorDetail[];
  /** The request id (also the X-Request-Id header): quote it when reporting a problem. */
  readonly requestId: string | undefined;

  constructor(
    readonly response: Response,
    /** The parsed body: the envelope, or whatever came instead. */
    readonly body: unknown,
  ) {
    const envelope = isEnvelope(body) ? body.error : undefined;
    super(envelope?.message ?? `${response.status} ${response.statusText}`.trim());
    this.status = envelope?.status ?? response.status;
    this.code = envelope?.code ?? 'UNEXPECTED_RESPONSE';
    this.details = envelope?.details ?? [];
    this.requestId = envelope?.requestId ?? response.headers.get('X-Request-Id') ?? undefined;
  }
}
