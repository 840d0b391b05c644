import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { AppConfig } from '../config/app-config';
import { ApiException } from '../common/http/api-exception';
import { AuthUser, PLATFORM_ROLES, PlatformRole } from '../common/auth/auth-user';
import { RevocationRegistry } from './revocation-registry';
import { SessionActivity } from './session-activity';

export const TOKEN_ISSUER = 'tasklane';
export const TOKEN_AUDIENCE = 'tasklane-api';
const ACCESS_TOKEN_TYPE = 'access';
/** How far ahead of this instance's clock another instance's may be when it issues a token. */
export const CLOCK_SKEW_SECONDS = 30;

interface AccessTokenClaims {
  sub: string;
  role: PlatformRole;
  sid: string;
  typ: string;
  iat: number;
  exp: number;
  nbf?: number;
}

export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
}

/**
 * HS256 access tokens with issuer, audience and a token type, signed and verified with a key
 * prepared once (see SessionsModule). Verification costs no database query nor write: revoked
 * sessions are looked up in the in-memory RevocationRegistry, and the use is noted in memory for
 * the sessions list (SessionActivity). A token must say when it was issued and when it expires,
 * a lifetime no longer than JWT_ACCESS_TTL, not be issued in the future (beyond CLOCK_SKEW_SECONDS)
 * and carry no `nbf` still to come: jsonwebtoken checks `exp` and `nbf` only when they are present,
 * so a correctly signed token without `exp` would otherwise never expire.
 */
@Injectable()
export class AccessTokenService {
  private readonly ttlSeconds: number;

  constructor(
    private readonly jwt: JwtService,
    private readonly revocations: RevocationRegistry,
    private readonly activity: SessionActivity,
    config: AppConfig,
  ) {
    this.ttlSeconds = config.env.JWT_ACCESS_TTL;
  }

  issue(user: { id: string; role: PlatformRole }, sessionId: string): IssuedAccessToken {
    // iat and exp are added by jsonwebtoken (iat: now, exp: iat + expiresIn).
    const claims = { sub: user.id, role: user.role, sid: sessionId, typ: ACCESS_TOKEN_TYPE };
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
      !PLATFORM_ROLES.includes(claims.role as PlatformRole) ||
      !this.timesValid(claims)
    ) {
      throw ApiException.unauthenticated('Invalid access token');
    }
    if (this.revocations.isRevoked(claims.sid)) throw ApiException.unauthenticated('Session revoked');
    this.activity.used(claims.sid);
    return { id: claims.sub, role: claims.role as PlatformRole, sessionId: claims.sid };
  }

  /** Numeric iat and exp, a lifetime within JWT_ACCESS_TTL, not issued in the future. */
  private timesValid({ iat, exp }: Partial<AccessTokenClaims>): boolean {
    if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isFinite(iat) || !Number.isFinite(exp)) {
      return false;
    }
    const now = Math.floor(Date.now() / 1000);
    return iat <= now + CLOCK_SKEW_SECONDS && exp > iat && exp - iat <= this.ttlSeconds;
  }
}
