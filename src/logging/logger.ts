import pino, { type DestinationStream, type Logger, type redactOptions } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Credentials and passwords, wherever they appear in a logged object. */
export const REDACT: redactOptions = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    '*.password',
    '*.currentPassword',
    '*.newPassword',
    '*.refreshToken',
    '*.accessToken',
    '*.token',
    '*.secret',
  ],
  censor: '[redacted]',
};

export interface LoggedError {
  type: string;
  code?: string | number;
  message: string;
  stack?: string;
  cause?: LoggedError;
}

/**
 * What a logged error carries: its class, its code (a SQLSTATE, an errno), its message and its
 * stack, and its cause the same way. Nothing else: database errors also hold the SQL text, its
 * parameter values and the driver's detail (`Key (email)=(…)`), which may be password hashes,
 * token digests or personal data, and pino's standard serializer would write every one of them.
 */
export function serializeError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) {
    // Nest hands over a message and a stack separately; AppLogger passes them on as a plain object.
    const { message, stack } = (error ?? {}) as { message?: unknown; stack?: unknown };
    if (typeof message !== 'string') return { type: typeof error, message: String(error) };
    return typeof stack === 'string' ? { type: 'Error', message, stack } : { type: 'Error', message };
  }
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  const logged: LoggedError = { type: error.constructor?.name ?? error.name, message: error.message };
  if (typeof code === 'string' || typeof code === 'number') logged.code = code;
  if (error.stack) logged.stack = error.stack;
  if (cause !== undefined && depth < 3) logged.cause = serializeError(cause, depth + 1);
  return logged;
}

/**
 * An error as a process prints it when it stops (main.ts and cli.ts, on standard error): what
 * serializeError keeps, as text. The first line is the reason, `QueryFailedError [P0001]: …`
 * (its class, its code, its message); then the stack's frames; then the errors an
 * AggregateError holds (a connection refused on each address), one line each, and the cause,
 * the same way. Never the SQL, its parameters nor the driver's detail or hint, which
 * util.inspect (and so console.error) of a database error prints.
 */
export function describeError(error: unknown): string {
  return describeLines(error, '', 0).join('\n');
}

function describeLines(error: unknown, prefix: string, depth: number): string[] {
  const { type, code, message, stack } = serializeError(error, Infinity); // no cause: it follows
  const lines = [`${prefix}${type}${code === undefined ? '' : ` [${code}]`}${message ? `: ${message}` : ''}`];
  if (depth >= 3) return lines;
  // Only the frames: the stack's first lines repeat the message as it was when it was thrown.
  for (const line of stack?.split('\n') ?? []) if (/^\s+at /.test(line)) lines.push(line);
  if (error instanceof AggregateError && Array.isArray(error.errors)) {
    for (const each of error.errors.slice(0, 10)) lines.push(describeLines(each, '  - ', 3)[0]);
  }
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  if (cause !== undefined) lines.push(...describeLines(cause, 'Caused by: ', depth + 1));
  return lines;
}

/**
 * The process's root pino logger: JSON lines on stdout, or on `stream` (LoggingModule gives the
 * pretty-printing one on a developer's terminal, log-format.ts). It does not redact: only the
 * request line, built from known fields, is written with it. Everything else logs through
 * AppLogger's redacting child. Errors, under `err` or `error`,
 * are written by serializeError.
 */
export function createLogger(config: AppConfig, stream?: DestinationStream): Logger {
  const err = (value: unknown) => serializeError(value);
  return pino({ level: config.env.LOG_LEVEL, serializers: { err, error: err } }, stream);
}
