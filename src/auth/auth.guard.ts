import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { ADMIN_ONLY, IS_PUBLIC } from '../common/decorators/metadata-keys';
import { ApiException } from '../common/http/api-exception';
import { AccessTokenService } from '../sessions/access-token.service';

const BEARER = /^Bearer ([A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]+\.[A-Za-z0-9\-_]*)$/i;

/**
 * Global: every route needs a valid access token unless marked @Public(); @AdminOnly() routes
 * also need the platform admin role. No database query: see AccessTokenService.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly accessTokens: AccessTokenService,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;

    const req = context.switchToHttp().getRequest<Request & AuthenticatedRequest>();
    const header = req.headers.authorization;
    if (!header) throw ApiException.unauthenticated('Missing bearer token');
    const token = BEARER.exec(header)?.[1];
    if (!token) throw ApiException.unauthenticated('Malformed Authorization header; expected "Bearer <token>"');
    req.user = this.accessTokens.verify(token);

    if (this.reflector.getAllAndOverride<boolean>(ADMIN_ONLY, targets) && req.user.role !== 'admin') {
      throw ApiException.forbidden('Only platform admins may do this');
    }
    return true;
  }
}
