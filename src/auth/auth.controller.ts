import { Body, Controller, Get, HttpCode, HttpStatus, Ip, Post, Res } from '@nestjs/common';
import { AccessTokenOnly } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuthUser, CurrentUser } from '../common/auth/auth-user';
import { Consumes, FORM_BODY, JSON_BODY } from '../common/decorators/consumes.decorator';
import { Public } from '../common/decorators/public.decorator';
import { Created } from '../common/http/created.decorator';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope } from '../common/swagger/envelope.schemas';
import { SignInClient, SignInFrom } from '../sessions/sign-in-client';
import { UserResponse } from '../users/user.response';
import { AuthService } from './auth.service';
import { AuthTokensResponse, ChangePasswordDto, LoginDto, RefreshTokenDto, RegisterDto } from './dto/auth.dto';
import { apiPath } from '../common/http/api-path';

@ApiTags('auth')
@ApiErrors(400)
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('register')
  @Public()
  @Created((result: AuthTokensResponse) => apiPath('users', result.user.id))
  @ApiOperation({
    summary: 'Create an account and sign in',
    description:
      "Public. Creates a `user` account and its first session, and answers with the tokens (`Cache-Control: no-store`); the session remembers this request's User-Agent and address. 409 if an active account already has the email.",
  })
  @ApiEnvelope(AuthTokensResponse, HttpStatus.CREATED, 'Created; Location points at the user')
  @ApiErrors(409)
  async register(
    @Body() body: RegisterDto,
    @SignInFrom() client: SignInClient,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AuthTokensResponse> {
    const result = await this.auth.register(body, client);
    res.setHeader('Cache-Control', 'no-store');
    return result;
  }

  @Post('login')
  @Public()
  @HttpCode(HttpStatus.OK)
  @Consumes(JSON_BODY, FORM_BODY)
  @ApiOperation({
    summary: 'Sign in with email and password (JSON or form)',
    description:
      'Public. An unknown email and a wrong password get the same 401. Attempts are limited per client address (LOGIN_RATE_LIMIT_PER_IP a minute) and per email from that address (LOGIN_RATE_LIMIT_PER_ACCOUNT per 15 minutes): 429 with Retry-After beyond. Starts a session that remembers the User-Agent and address.',
  })
  @ApiEnvelope(AuthTokensResponse)
  @ApiErrors(401)
  async login(
    @Body() body: LoginDto,
    @SignInFrom() client: SignInClient,
    @Res({ passthrough: true }) res: Response,
  ): Promise<AuthTokensResponse> {
    res.setHeader('Cache-Control', 'no-store');
    return this.auth.login(body.email, body.password, client);
  }

  @Post('refresh')
  @Public()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Exchange a refresh token for a new pair (the old one is spent)',
    description:
      "Public: the refresh token is the credential. Each refresh token works once; presenting one that was already spent means it was copied, and the whole session is revoked (401). The new access token carries the account's current role; an expired, revoked or unknown token, or a deleted account, is a 401.",
  })
  @ApiEnvelope(AuthTokensResponse)
  @ApiErrors(401)
  async refresh(@Body() body: RefreshTokenDto, @Res({ passthrough: true }) res: Response): Promise<AuthTokensResponse> {
    res.setHeader('Cache-Control', 'no-store');
    return this.auth.refresh(body.refreshToken);
  }

  @Post('logout')
  @Public()
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'End the session the refresh token belongs to; its access tokens stop working',
    description:
      'Public: the refresh token is the credential; any token the session has issued, spent ones included, ends it. Its access tokens are refused on every instance once the revocation commits. 401 for an unknown token.',
  })
  @ApiNoContent('Signed out')
  @ApiErrors(401)
  logout(@Body() body: RefreshTokenDto): Promise<void> {
    return this.auth.logout(body.refreshToken);
  }

  @Get('me')
  @AccessTokenOnly()
  @ApiOperation({
    summary: 'The signed-in user',
    description:
      "Needs a person's access token: an API key is no one's credential here (401). 401 as well when the account was deleted since the token was issued.",
  })
  @ApiEnvelope(UserResponse)
  me(@CurrentUser() caller: AuthUser): Promise<UserResponse> {
    return this.auth.me(caller);
  }

  @Post('password')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Change your password; every session of yours ends, this one included',
    description:
      'People only (API keys get 403). `currentPassword` must be right (400 naming it otherwise); guesses are limited like signing in (429). Every session of yours ends and password-reset links still out stop working: sign in again with the new password.',
  })
  @ApiNoContent('Password changed; sign in again')
  changePassword(@CurrentUser() caller: AuthUser, @Body() body: ChangePasswordDto, @Ip() ip: string): Promise<void> {
    return this.auth.changePassword(caller, body.currentPassword, body.newPassword, ip);
  }
}
