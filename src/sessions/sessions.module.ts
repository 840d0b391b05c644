import { Module } from '@nestjs/common';
import { PaginationModule } from '../common/pagination/pagination.module';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { createSecretKey } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { AccessTokenService, TOKEN_AUDIENCE, TOKEN_ISSUER } from './access-token.service';
import { RefreshToken } from './refresh-token.entity';
import { RevocationRegistry } from './revocation-registry';
import { SessionActivity } from './session-activity';
import { SessionFamily } from './session-family.entity';
import { SessionService } from './session.service';
import { SessionsRepository } from './sessions.repository';

/**
 * Sessions, refresh tokens, access tokens and revocation: what both auth (sign-in) and users
 * (deletion, role changes) need, below both of them.
 */
@Module({
  imports: [
    PaginationModule,
    TypeOrmModule.forFeature([SessionFamily, RefreshToken]),
    JwtModule.registerAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => {
        // Prepared once: jsonwebtoken would otherwise build a KeyObject on every call.
        const key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
        return {
          secretOrKeyProvider: () => key,
          signOptions: { algorithm: 'HS256', issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE },
          verifyOptions: { algorithms: ['HS256'], issuer: TOKEN_ISSUER, audience: TOKEN_AUDIENCE },
        };
      },
    }),
  ],
  providers: [SessionsRepository, AccessTokenService, SessionService, RevocationRegistry, SessionActivity],
  exports: [AccessTokenService, SessionService],
})
export class SessionsModule {}
