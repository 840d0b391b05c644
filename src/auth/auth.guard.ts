import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ApiKeyAuthenticator } from '../api-keys/api-key-authenticator';
import { ApiKeyToken } from '../api-keys/api-key-token';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import type { ApiKeyAccess } from '../common/decorators/api-keys.decorator';
import { ADMIN_ONLY, API_KEYS, IS_PUBLIC } from '../common/decorators/metadata-keys';
import { ApiException } from '../common/http/api-exception';
import { AccessTokenService } from '../sessions/access-token.service';

const BEARER = /^Bearer ([A-Za-z0-9\-_.]+)$/i;
const ACCESS_TOKEN = /^[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*$/;

/**
 * Global: every route needs a credential unless marked @Public() — an access token (a person), or
 * on the routes that accept them an org API key (`tl_…`); @AdminOnly() routes also need the
 * platform admin role. No database query for an access token (AccessTokenService), nor for a key
 * already checked once (ApiKeyAuthenticator).
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accessTokens: AccessTokenService,
    private readonly apiKeys: ApiKeyAuthenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const req = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (!header) throw ApiException.unauthenticated('Missing bearer token');
    const credential = BEARER.exec(header)?.[1];
    if (credential && ApiKeyToken.looksLikeOne(credential)) {
      return this.withApiKey(req, credential, this.reflector.getAllAndOverride<ApiKeyAccess>(API_KEYS, targets));
    }
    if (!credential || !ACCESS_TOKEN.test(credential)) {
      throw ApiException.unauthenticated('Malformed Authorization header; expected "Bearer <token>"');
    }
    const user = this.accessTokens.verify(credential);
    req.user = user;
    req.principal = { kind: 'user', id: user.id };

    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) && user.role !== 'admin') {
      throw ApiException.forbidden('Only platform admins may do this');
    }
    return true;
  }

  /** A key reaches only the routes that accept keys (see @ApiKeysAccepted), once it is proven valid. */
  private async withApiKey(
    req: AuthenticatedRequest,
    token: string,
    access: ApiKeyAccess | undefined,
  ): Promise<boolean> {
    if (access === 'unauthenticated')
      throw ApiException.unauthenticated('This route needs a signed-in person, not an API key');
    req.principal = await this.apiKeys.verify(token);
    if (access !== 'accepted') throw ApiException.forbidden('API keys cannot be used here');
    return true;
  }
}
