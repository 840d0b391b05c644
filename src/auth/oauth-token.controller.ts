import { ArgumentsHost, Body, Catch, Controller, HttpCode, HttpStatus, Post, Res, UseFilters } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Consumes, FORM_BODY } from '../common/decorators/consumes.decorator';
import { Public } from '../common/decorators/public.decorator';
import { RawResponse } from '../common/decorators/raw-response.decorator';
import { ApiException, clipped, MAX_DETAIL_MESSAGE } from '../common/http/api-exception';
import { AllExceptionsFilter } from '../common/http/all-exceptions.filter';
import { SignInClient, SignInFrom } from '../sessions/sign-in-client';
import { AuthService } from './auth.service';
import { AuthTokensResponse } from './dto/auth.dto';
import { OAuthErrorResponse, OAuthTokenRequest, OAuthTokenResponse } from './dto/oauth-token.dto';

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

/**
 * RFC 6749 §5.2 error bodies for the token endpoint; anything that is not an OAuth2 error is
 * translated (validation → invalid_request, 401 → invalid_grant, …), and 5xx fall back to the
 * global filter.
 */
@Catch()
class OAuthErrorFilter extends AllExceptionsFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const error = toOAuthError(exception);
    if (!error) return super.catch(exception, host);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    for (const [name, value] of Object.entries(error.headers)) res.setHeader(name, value);
    res.status(error.status).json({ error: error.error, error_description: error.message });
  }
}

function toOAuthError(exception: unknown): OAuthError | undefined {
  if (exception instanceof OAuthError) return exception;
  if (!(exception instanceof ApiException)) return undefined;
  switch (exception.code) {
    case 'VALIDATION_FAILED':
    case 'MALFORMED_BODY':
    case 'UNSUPPORTED_MEDIA_TYPE':
    case 'PAYLOAD_TOO_LARGE': {
      const detail = exception.details?.map((d) => d.message).join('; ');
      return new OAuthError(400, 'invalid_request', clipped(detail || exception.message, MAX_DETAIL_MESSAGE));
    }
    case 'UNAUTHENTICATED':
      return new OAuthError(400, 'invalid_grant', exception.message);
    case 'RATE_LIMITED':
      return new OAuthError(429, 'invalid_request', exception.message, exception.headers);
    default:
      return undefined;
  }
}

@ApiTags('auth')
@Public()
@RawResponse()
@UseFilters(OAuthErrorFilter)
@Controller('auth')
export class OAuthTokenController {
  constructor(private readonly auth: AuthService) {}

  @Post('token')
  @HttpCode(HttpStatus.OK)
  @Consumes(FORM_BODY)
  @ApiOperation({
    summary: 'OAuth2 token endpoint (password and refresh_token grants)',
    description:
      'RFC 6749 bodies, not enveloped. Used by the Authorize dialog of Swagger UI. `scope`, `client_id`, `client_secret` and an `Authorization: Basic` header with empty client credentials are accepted and ignored: Tasklane clients are public clients.',
  })
  @ApiExtraModels(OAuthTokenResponse, OAuthErrorResponse)
  @ApiResponse({ status: 200, type: OAuthTokenResponse, description: 'Tokens' })
  @ApiResponse({
    status: 400,
    type: OAuthErrorResponse,
    description: 'invalid_request, invalid_grant or unsupported_grant_type',
  })
  @ApiResponse({ status: 429, type: OAuthErrorResponse, description: 'Too many sign-in attempts; see Retry-After' })
  async token(
    @Body() body: OAuthTokenRequest,
    @SignInFrom() client: SignInClient,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OAuthTokenResponse> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    return toOAuth(await this.grant(body, client));
  }

  private grant(body: OAuthTokenRequest, client: SignInClient): Promise<AuthTokensResponse> {
    switch (body.grant_type) {
      case 'password':
        if (!body.username || !body.password) {
          throw new OAuthError(400, 'invalid_request', 'username and password are required for the password grant');
        }
        return this.auth.login(body.username.trim().toLowerCase(), body.password, client);
      case 'refresh_token':
        if (!body.refresh_token) throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
        return this.auth.refresh(body.refresh_token);
      default:
        throw new OAuthError(400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
    }
  }
}

function toOAuth(tokens: AuthTokensResponse): OAuthTokenResponse {
  return {
    access_token: tokens.accessToken,
    token_type: 'bearer',
    expires_in: tokens.expiresIn,
    refresh_token: tokens.refreshToken,
  };
}
