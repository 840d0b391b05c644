import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { ApiHeader } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { catchError, from, mergeMap, Observable, of } from 'rxjs';
import { AuthenticatedRequest } from '../auth/auth-user';
import { ApiException } from '../http/api-exception';
import { ApiErrors } from '../swagger/api-errors.decorator';
import { IdempotencyStore } from './idempotency.store';

const KEY = /^[\x21-\x7e]{1,255}$/;

/** JSON with object keys sorted, so that the same body always hashes the same. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Idempotency-Key on POST: the first request with a key runs; the same key and request from the
 * same user within 24 h replays its response (status, body, Location) with
 * `Idempotent-Replayed: true`; a different request with that key is a 422; while the first is
 * still running, a 409. A request that fails leaves the key free.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly store: IdempotencyStore) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & AuthenticatedRequest>();
    const res = http.getResponse<Response>();
    const key = req.header('idempotency-key');
    if (key === undefined) return next.handle();
    if (!KEY.test(key)) {
      throw new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: 'Idempotency-Key', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters' },
      ]);
    }
    const userId = req.user!.id;
    // Paths here hold only fixed words and UUIDs, which are case-insensitive.
    const path = req.originalUrl.split('?')[0].toLowerCase();
    const requestHash = createHash('sha256')
      .update(`${req.method} ${path}\n${canonical(req.body)}`)
      .digest('hex');

    return from(this.store.begin(userId, key, requestHash)).pipe(
      mergeMap((outcome) => {
        switch (outcome.kind) {
          case 'mismatch':
            throw new ApiException(
              HttpStatus.UNPROCESSABLE_ENTITY,
              'IDEMPOTENCY_KEY_REUSED',
              'This Idempotency-Key was used with a different request',
            );
          case 'in_progress':
            throw new ApiException(
              HttpStatus.CONFLICT,
              'IDEMPOTENCY_IN_PROGRESS',
              'A request with this Idempotency-Key is still being processed; retry shortly',
              undefined,
              { 'Retry-After': '1' },
            );
          case 'replay':
            res.status(outcome.status).setHeader('Idempotent-Replayed', 'true');
            if (outcome.location) res.location(outcome.location);
            return of(outcome.body);
          case 'started':
            return next.handle().pipe(
              mergeMap(async (result: unknown) => {
                const location = res.getHeader('location');
                await this.store.complete(
                  userId,
                  key,
                  res.statusCode,
                  result,
                  typeof location === 'string' ? location : null,
                );
                return result;
              }),
              catchError(async (error: unknown) => {
                await this.store.release(userId, key).catch(() => undefined);
                throw error;
              }),
            );
        }
      }),
    );
  }
}

/** Applies and documents Idempotency-Key handling on a POST that creates something. */
export const Idempotent = (): MethodDecorator =>
  applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Retry-safe creation: the same key and request within 24 h replays the first response (with `Idempotent-Replayed: true`) instead of creating again.',
      schema: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\x21-\\x7e]{1,255}$' },
    }),
    ApiErrors(409, 422),
  );
