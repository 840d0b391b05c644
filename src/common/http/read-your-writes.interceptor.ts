import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { catchError, mergeMap, Observable } from 'rxjs';
import { ReadReplicas } from '../../database/read-replicas';
import type { AuthenticatedRequest } from '../auth/auth-user';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * With read replicas, a client reads its own writes (contract §21): once a principal's writing
 * request is done — and before its response leaves — the primary's WAL position is published as
 * that principal's fence, on every instance (ReadReplicas). Also after a failed request: a change
 * may have committed before the failure. Registered only with replicas (AppModule).
 */
@Injectable()
export class ReadYourWritesInterceptor implements NestInterceptor {
  private readonly logger = new Logger(ReadYourWritesInterceptor.name);

  constructor(private readonly replicas: ReadReplicas) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const req = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    if (READS.has(req.method)) return next.handle();
    const fence = async (): Promise<void> => {
      // Authenticated by now (the guards ran), or the request had no principal.
      if (!req.principal) return;
      await this.replicas.recordWrite(req.principal.id).catch((error: Error) => {
        this.logger.warn(`Could not publish a read fence: ${error.message}`);
      });
    };
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        await fence();
        return result;
      }),
      catchError(async (error: unknown) => {
        await fence();
        throw error;
      }),
    );
  }
}
