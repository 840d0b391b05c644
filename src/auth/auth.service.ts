import { Injectable } from '@nestjs/common';
import { AuthUser } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { UnitOfWork } from '../database/unit-of-work';
import { AccessTokenService } from '../sessions/access-token.service';
import { SessionService } from '../sessions/session.service';
import type { SignInClient } from '../sessions/sign-in-client';
import { PasswordHasher } from '../users/password-hasher';
import { User } from '../users/user.entity';
import { UserResponse } from '../users/user.response';
import { NewUser, UsersService } from '../users/users.service';
import { AuthTokensResponse } from './dto/auth.dto';
import { LoginRateLimiter } from './login-rate-limiter';
import { PasswordResetService } from './password-reset.service';

const BAD_CREDENTIALS = 'Invalid email or password';

@Injectable()
export class AuthService {
  constructor(
    private readonly users: UsersService,
    private readonly hasher: PasswordHasher,
    private readonly sessions: SessionService,
    private readonly accessTokens: AccessTokenService,
    private readonly loginLimiter: LoginRateLimiter,
    private readonly passwordResets: PasswordResetService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Creates the account and its first session together. */
  async register(input: Omit<NewUser, 'role'>, client: SignInClient): Promise<AuthTokensResponse> {
    const { user, session } = await this.unitOfWork.run(async (tx) => {
      const created = await this.users.create(input, tx);
      return { user: created, session: await this.sessions.start(tx, created.id, client) };
    });
    return this.tokens(user, session.sessionId, session.refreshToken);
  }

  /**
   * Unknown email and wrong password fail alike, in the same time. The password is verified
   * outside any transaction (it takes tens of ms); the session is then started under the lock of
   * the user's row, with the hash that was verified still the current one and the role read
   * there, so that no session outlives a password change, role change or deletion that committed
   * while the password was being checked.
   */
  async login(email: string, password: string, client: SignInClient): Promise<AuthTokensResponse> {
    await this.loginLimiter.check(client.ip ?? '', email);
    const user = await this.users.findForSignIn(email);
    if (!(await this.hasher.verify(user?.passwordHash, password)) || !user) {
      throw ApiException.unauthenticated(BAD_CREDENTIALS);
    }
    const started = await this.unitOfWork.run(async (tx) => {
      const current = await this.users.lockForSession(tx, user.id);
      if (current?.passwordHash !== user.passwordHash) return undefined;
      return { role: current.role, session: await this.sessions.start(tx, user.id, client) };
    });
    if (!started) throw ApiException.unauthenticated(BAD_CREDENTIALS);
    user.role = started.role;
    return this.tokens(user, started.session.sessionId, started.session.refreshToken);
  }

  /** The next refresh token of the session, and an access token with the role read under the user's lock. */
  async refresh(refreshToken: string): Promise<AuthTokensResponse> {
    const session = await this.sessions.rotate(refreshToken, (tx, userId) => this.users.lockForSession(tx, userId));
    const user = await this.signedInAccount(session.userId, 'Invalid or expired refresh token');
    user.role = session.account.role;
    return this.tokens(user, session.sessionId, session.refreshToken);
  }

  async me(caller: AuthUser): Promise<UserResponse> {
    return UserResponse.from(await this.signedInAccount(caller.id, 'Account no longer exists'));
  }

  logout(refreshToken: string): Promise<void> {
    return this.sessions.endSession(refreshToken);
  }

  /** A new password ends every session of the user, the caller's own included. */
  async changePassword(caller: AuthUser, currentPassword: string, newPassword: string, ip: string): Promise<void> {
    const user = await this.users.findActive(caller.id);
    // Guessing the current password with a stolen access token is limited like signing in.
    await this.loginLimiter.check(ip, user.email);
    if (!(await this.hasher.verify(await this.users.passwordHashOf(user.id), currentPassword))) {
      throw ApiException.invalidField('currentPassword', 'currentPassword is wrong');
    }
    const passwordHash = await this.hasher.hash(newPassword);
    await this.unitOfWork.run(async (tx) => {
      await this.users.setPassword(tx, caller.id, passwordHash);
      await this.sessions.revokeAllOfUser(tx, caller.id, 'password_change');
      await this.passwordResets.spendAllOf(tx, caller.id);
    });
  }

  /**
   * The account behind a valid credential. One deleted since (its revocation still on its way
   * from another instance, or deleted outside the API) makes the credential dead: 401, not 404.
   */
  private async signedInAccount(userId: string, message: string): Promise<User> {
    try {
      return await this.users.findActive(userId);
    } catch (error) {
      if (error instanceof ApiException && error.code === 'NOT_FOUND') throw ApiException.unauthenticated(message);
      throw error;
    }
  }

  private tokens(user: User, sessionId: string, refreshToken: string): AuthTokensResponse {
    const access = this.accessTokens.issue(user, sessionId);
    return {
      user: UserResponse.from(user),
      accessToken: access.accessToken,
      refreshToken,
      expiresIn: access.expiresIn,
    };
  }
}
