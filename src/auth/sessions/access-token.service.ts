import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../../config/app-config';
import { ApiException } from '../../common/http/api-exception';
import { AuthUser, PLATFORM_ROLES, PlatformRole } from '../../common/auth/auth-user';
import { RevocationRegistry } from './revocation-registry';

export const TOKEN_ISSUER = 'tasklane';
export const TOKEN_AUDIENCE = 'tasklane-api';
const ACCESS_TOKEN_TYPE = 'access';

interface AccessTokenClaims {
  sub: string;
  role: PlatformRole;
  sid: string;
  typ: string;
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
}

/**
 * HS256 access tokens with issuer, audience and a token type, signed and verified with a key
 * prepared once (see SessionsModule). Verification costs no database query: revoked sessions
 * are looked up in the in-memory RevocationRegistry.
 */
@Injectable()
export class AccessTokenService {
  private readonly ttlSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    private readonly revocations: RevocationRegistry,
    config: AppConfig,
  ) {
    this.ttlSeconds = config.env.JWT_ACCESS_TTL;
  }

  issue(user: { id: string; role: PlatformRole }, sessionId: string): IssuedAccessToken {
    const claims: AccessTokenClaims = { sub: user.id, role: user.role, sid: sessionId, typ: ACCESS_TOKEN_TYPE };
    return { accessToken: this.jwt.sign(claims, { expiresIn: this.ttlSeconds }), expiresIn: this.ttlSeconds };
  }

  verify(token: string): AuthUser {
    let claims: Partial<AccessTokenClaims>;
    try {
      claims = this.jwt.verify<AccessTokenClaims>(token);
    } catch (error) {
      const expired = (error as Error).name === 'TokenExpiredError';
      throw ApiException.unauthenticated(expired ? 'Access token expired' : 'Invalid access token');
    }
    if (
      claims.typ !== ACCESS_TOKEN_TYPE ||
      typeof claims.sub !== 'string' ||
      typeof claims.sid !== 'string' ||
      !PLATFORM_ROLES.includes(claims.role as PlatformRole)
    ) {
      throw ApiException.unauthenticated('Invalid access token');
    }
    if (this.revocations.isRevoked(claims.sid)) throw ApiException.unauthenticated('Session revoked');
    return { id: claims.sub, role: claims.role as PlatformRole, sessionId: claims.sid };
  }
}
