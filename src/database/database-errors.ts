import { HttpStatus } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';

export interface ClassifiedDatabaseError {
  status: HttpStatus;
  code: 'VALIDATION_FAILED' | 'CONFLICT' | 'UNAVAILABLE';
  message: string;
  retryAfterSeconds?: number;
}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EPIPE',
]);

/**
 * SQLSTATEs of class 22 (data exception) that mean "this input is not a value of its type":
 * string too long, numeric out of range, invalid datetime format, datetime out of range, time
 * zone displacement out of range, NUL in text, invalid text representation, untranslatable
 * character (a \ud800 escape in jsonb).
 */
const INPUT_REJECTED_CODES = new Set(['22001', '22003', '22007', '22008', '22009', '22021', '22P02', '22P05']);

/**
 * Maps PostgreSQL and driver errors to the HTTP errors of the contract. Anything not recognised
 * returns undefined and becomes a 500 whose details stay in the log.
 */
export function classifyDatabaseError(error: unknown): ClassifiedDatabaseError | undefined {
  const driverError = error instanceof QueryFailedError ? (error.driverError as { code?: string }) : error;
  const code = (driverError as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';

  // A value PostgreSQL cannot take as its type (a NUL in text, a date out of range, a malformed
  // number or UUID, a lone surrogate in JSON). Validation refuses these first, naming the field;
  // one that still gets this far can only have come from the request, so it is a 400, not a 500.
  if (typeof code === 'string' && INPUT_REJECTED_CODES.has(code)) {
    return {
      status: HttpStatus.BAD_REQUEST,
      code: 'VALIDATION_FAILED',
      message: 'A value in the request cannot be stored or compared as its type',
    };
  }
  if (code === '23505') {
    return { status: HttpStatus.CONFLICT, code: 'CONFLICT', message: 'The resource conflicts with an existing one' };
  }
  if (code === '23503') {
    return {
      status: HttpStatus.CONFLICT,
      code: 'CONFLICT',
      message: 'The resource is referenced by, or refers to, a missing resource',
    };
  }
  const unavailable =
    (typeof code === 'string' &&
      (CONNECTION_ERROR_CODES.has(code) ||
        code.startsWith('08') ||
        code === '57P01' ||
        code === '57P03' ||
        code === '53300' ||
        code === '57014')) ||
    /timeout exceeded when trying to connect|Connection terminated|connection timeout/i.test(message);
  if (unavailable) {
    return {
      status: HttpStatus.SERVICE_UNAVAILABLE,
      code: 'UNAVAILABLE',
      message: 'The database is unavailable; retry shortly',
      retryAfterSeconds: 5,
    };
  }
  return undefined;
}

/** True for a unique-constraint violation (PostgreSQL 23505), optionally of one constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error instanceof QueryFailedError ? error.driverError : error) as {
    code?: string;
    constraint?: string;
  } | null;
  return driverError?.code === '23505' && (constraint === undefined || driverError.constraint === constraint);
}
