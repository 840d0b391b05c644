import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  HttpStatus,
  Injectable,
  Logger,
  NestInterceptor,
  UseInterceptors,
} from '@nestjs/common';
import { HTTP_CODE_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ApiHeader } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { createHash } from 'node:crypto';
import { catchError, from, mergeMap, Observable, of } from 'rxjs';
import { Transaction, UnitOfWork } from '../../database/unit-of-work';
import { ActorRequest } from '../auth/auth-user';
import { CREATED_LOCATION, LocationOf } from '../http/created.decorator';
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
 * still running, a 409. The response is stored by the request's unit of work, in the transaction
 * that creates the resource (Actor.beforeCommit): both commit, or neither. A request that fails
 * before that commit leaves the key free.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  private readonly logger = new Logger(IdempotencyInterceptor.name);

  constructor(
    private readonly store: IdempotencyStore,
    private readonly reflector: Reflector,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & ActorRequest>();
    const res = http.getResponse<Response>();
    const key = req.header('idempotency-key');
    if (key === undefined) return next.handle();
    if (!KEY.test(key)) {
      throw ApiException.invalidField('Idempotency-Key', 'Idempotency-Key must be 1 to 255 visible ASCII characters');
    }
    const userId = req.principal!.id;
    // Paths here hold only fixed words and UUIDs, which are case-insensitive.
    const path = req.originalUrl.split('?')[0].toLowerCase();
    const requestHash = createHash('sha256')
      .update(`${req.method} ${path}\n${canonical(req.body)}`)
      .digest('hex');
    const handler = context.getHandler();
    const status = this.reflector.get<number | undefined>(HTTP_CODE_METADATA, handler) ?? HttpStatus.CREATED;
    const locationOf = this.reflector.get<LocationOf | undefined>(CREATED_LOCATION, handler);

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
          case 'started': {
            const claim = { userId, key, claim: outcome.claim };
            let stored = false;
            const storeIn = async (tx: Transaction, body: unknown) => {
              await this.store.complete(tx, claim, { status, body, location: locationOf?.(body) ?? null });
              stored = true;
            };
            req.beforeCommit = storeIn;
            return next.handle().pipe(
              mergeMap(async (result: unknown) => {
                if (!stored) {
                  // A route whose service does not run its change through UnitOfWork: stored
                  // after the fact, as a last resort, and said loudly (tests cover every route).
                  this.logger.warn(`${req.method} ${path}: the idempotent response was not stored in its transaction`);
                  await this.unitOfWork.run((tx) => storeIn(tx, result));
                }
                return result;
              }),
              catchError(async (error: unknown) => {
                await this.store.release(claim).catch(() => undefined);
                throw error;
              }),
            );
          }
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
