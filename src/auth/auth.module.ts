import { Module } from '@nestjs/common';
import { RateLimitModule } from '../common/rate-limit/rate-limit.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginRateLimiter } from './login-rate-limiter';
import { OAuthTokenController } from './oauth-token.controller';
import { SessionsController } from './sessions.controller';
import { SessionsModule } from '../sessions/sessions.module';

@Module({
  imports: [UsersModule, SessionsModule, RateLimitModule],
  controllers: [AuthController, OAuthTokenController, SessionsController],
  providers: [AuthService, LoginRateLimiter],
})
export class AuthModule {}
