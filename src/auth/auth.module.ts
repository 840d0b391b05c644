import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RateLimitModule } from '../common/rate-limit/rate-limit.module';
import { UsersModule } from '../users/users.module';
import { AuthController } from './auth.controller';
import { AuthService } from './auth.service';
import { LoginRateLimiter } from './login-rate-limiter';
import { OAuthTokenController } from './oauth-token.controller';
import { PasswordResetToken } from './password-reset-token.entity';
import { PasswordResetController } from './password-reset.controller';
import { PasswordResetService } from './password-reset.service';
import { PasswordResetsRepository } from './password-resets.repository';
import { SessionsController } from './sessions.controller';
import { SessionsModule } from '../sessions/sessions.module';

@Module({
  imports: [TypeOrmModule.forFeature([PasswordResetToken]), UsersModule, SessionsModule, RateLimitModule],
  controllers: [AuthController, OAuthTokenController, SessionsController, PasswordResetController],
  providers: [AuthService, LoginRateLimiter, PasswordResetService, PasswordResetsRepository],
})
export class AuthModule {}
