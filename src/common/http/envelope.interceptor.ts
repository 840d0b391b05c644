import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { map, Observable } from 'rxjs';
import { RAW_RESPONSE } from '../decorators/metadata-keys';
import { Page } from '../pagination/page';
import { etagFor } from './etag';

/**
 * Wraps every /api result in the success envelope: `{data, meta: {requestId}}`, lists with
 * `meta.page`. A single resource with a `version` also gets its ETag here, so that no
 * controller has to remember it.
 */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const raw = this.reflector.getAllAndOverride<boolean>(RAW_RESPONSE, [context.getHandler(), context.getClass()]);
    if (raw) return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { id: string }>();
    const res = http.getResponse<Response>();

    return next.handle().pipe(
      map((result: unknown) => {
        if (result === undefined || res.statusCode === 204) return undefined;
        const requestId = req.id;
        if (result instanceof Page) {
          return {
            data: result.items,
            meta: { requestId, page: { limit: result.limit, nextCursor: result.nextCursor } },
          };
        }
        const version = (result as { version?: unknown } | null)?.version;
        if (typeof version === 'number') res.setHeader('ETag', etagFor(version));
        return { data: result, meta: { requestId } };
      }),
    );
  }
}
