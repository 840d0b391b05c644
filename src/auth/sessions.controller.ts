import { Controller, Delete, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth/auth-user';
import { UuidParam } from '../common/http/uuid-param';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import { ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { SessionResponse } from '../sessions/session.response';
import { SessionService } from '../sessions/session.service';

/** The signed-in user's own sessions (contract §20). */
@ApiTags('auth')
@Controller('auth')
export class SessionsController {
  constructor(private readonly sessions: SessionService) {}

  @Get('sessions')
  @ApiOperation({
    summary: 'Your active sessions, newest first',
    description:
      'Every session that is signed in (not revoked, its refresh token unspent and unexpired), newest sign-in first, paged like every list. `userAgent` and `ip` are those of the sign-in; `lastUsedAt` is roughly current (requests are recorded every 30 s per instance); `current` marks the session of the access token making this request.',
  })
  @ApiListEnvelope(SessionResponse)
  @ApiErrors(400)
  list(@CurrentUser() caller: AuthUser, @Query() query: ListQuery): Promise<Page<SessionResponse>> {
    return this.sessions.listOwn(caller, query);
  }

  @Delete('sessions/:sessionId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End one of your sessions (this one too); its tokens stop working',
    description:
      'Its refresh token and access tokens are refused from then on, on every instance within a second. A session that is not one of your active ones (another user’s, already ended, unknown) is a 404.',
  })
  @ApiNoContent('Session ended')
  @ApiErrors(400, 404)
  revoke(@CurrentUser() caller: AuthUser, @UuidParam('sessionId') sessionId: string): Promise<void> {
    return this.sessions.revokeOwn(caller, sessionId);
  }

  @Post('logout-all')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End every session of yours, this one included',
    description:
      'People only (API keys get 403). Revokes all your sessions: their refresh tokens and access tokens are refused from then on, on every instance within a second.',
  })
  @ApiNoContent('Signed out everywhere')
  logoutAll(@CurrentUser() caller: AuthUser): Promise<void> {
    return this.sessions.revokeAllOwn(caller);
  }
}
