import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { ApiException } from '../http/api-exception';

/** The global per-client limit (RATE_LIMIT_PER_MINUTE per IP), answering in the error envelope. */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  /** One counter per client, whichever route it calls (the default key adds controller and handler). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${throttlerName}:${tracker}`;
  }

  /**
   * The client's address as Express resolves it under TRUST_PROXY (`req.ip`): the throttler's own
   * default takes the left-most X-Forwarded-For entry when there is one, which clients write.
   */
  protected override getTracker(req: Record<string, unknown>): Promise<string> {
    return Promise.resolve(String(req.ip));
  }

  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw ApiException.rateLimited(detail.timeToBlockExpire);
  }
}
