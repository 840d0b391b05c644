import { Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AuthUser, CurrentUser } from '../common/auth/auth-user';
import { UuidParam } from '../common/http/uuid-param';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { SessionListEnvelope, SessionResponse } from '../sessions/session.response';
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
      'Every session that is signed in (not revoked, its refresh token unspent and unexpired), at most the 100 newest, in one list without paging. `userAgent` and `ip` are those of the sign-in; `lastUsedAt` is roughly current (requests are recorded every 30 s per instance); `current` marks the session of the access token making this request.',
  })
  @ApiExtraModels(SessionListEnvelope)
  @ApiResponse({ status: HttpStatus.OK, description: 'Your active sessions', type: SessionListEnvelope })
  list(@CurrentUser() caller: AuthUser): Promise<SessionResponse[]> {
    return this.sessions.listOwn(caller);
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
  @ApiOperation({ summary: 'End every session of yours, this one included' })
  @ApiNoContent('Signed out everywhere')
  logoutAll(@CurrentUser() caller: AuthUser): Promise<void> {
    return this.sessions.revokeAllOwn(caller);
  }
}
