import { ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { ApiException } from '../http/api-exception';

/** The global per-client limit (RATE_LIMIT_PER_MINUTE per IP), answering in the error envelope. */
@Injectable()
export class ApiThrottlerGuard extends ThrottlerGuard {
  protected override async throwThrottlingException(
    _context: ExecutionContext,
    detail: ThrottlerLimitDetail,
  ): Promise<void> {
    throw ApiException.rateLimited(detail.timeToBlockExpire);
  }
}
