import { HttpStatus, Injectable, Logger } from '@nestjs/common';
import { ApiException } from '../common/http/api-exception';
import { AppConfig } from '../config/app-config';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { JobKind, JobQueue } from '../jobs/job-queue';
import { Mailer } from '../mail/mailer';
import { SessionService } from '../sessions/session.service';
import { PasswordHasher } from '../users/password-hasher';
import { UsersService } from '../users/users.service';
import { LoginRateLimiter } from './login-rate-limiter';
import { PasswordResetsRepository } from './password-resets.repository';
import { BearerSecret } from '../common/auth/bearer-secret';

/** A reset link is valid for 30 minutes. */
export const PASSWORD_RESET_TTL_SECONDS = 30 * 60;
/**
 * Reset mails one account gets in an hour, whoever asks and from wherever: the request limits
 * count per address, and an attacker with many addresses must not flood someone's inbox.
 * Requests beyond it are answered alike (202) and dropped.
 */
export const RESET_MAILS_PER_HOUR = 3;

interface ResetRequest {
  email: string;
}

/**
 * Password reset (§17). A request only queues a job with the email, the same work whether or
 * not an account has it, so the answer (202) says nothing and takes the same time either way;
 * the job looks the account up, and when there is one records a token (256 random bits, stored
 * as its SHA-256, 30 minutes, once) and queues the mail with the link, in one transaction.
 * Confirming sets the password, spends every outstanding token and revokes every session.
 */
@Injectable()
export class PasswordResetService {
  private readonly logger = new Logger(PasswordResetService.name);
  private readonly requestJob: JobKind<ResetRequest>;

  constructor(
    private readonly resets: PasswordResetsRepository,
    private readonly users: UsersService,
    private readonly sessions: SessionService,
    private readonly hasher: PasswordHasher,
    private readonly mailer: Mailer,
    private readonly jobs: JobQueue,
    private readonly unitOfWork: UnitOfWork,
    private readonly limiter: LoginRateLimiter,
    private readonly config: AppConfig,
  ) {
    this.requestJob = jobs.define<ResetRequest>({
      name: 'password-reset.request',
      retryLimit: 5,
      retryDelaySeconds: 5,
      timeoutSeconds: 60,
      // An email address is personal data: encrypted while it waits.
      sealed: true,
      handle: (request) => this.issue(request.email),
    });
  }

  async request(email: string, ip: string): Promise<void> {
    await this.limiter.check(ip, email, 'reset');
    await this.unitOfWork.run((tx) => this.jobs.enqueue(tx, this.requestJob, { email }));
  }

  async confirm(token: string, newPassword: string, ip: string): Promise<void> {
    await this.limiter.checkAddress(ip, 'reset');
    const tokenHash = BearerSecret.hash(token);
    // Checked before hashing the password, so that made-up tokens cost no argon2 time.
    const userId = (await this.resets.validToken(tokenHash))?.userId;
    if (!userId) throw this.unknownToken();
    const passwordHash = await this.hasher.hash(newPassword);
    await this.unitOfWork.run(async (tx) => {
      // The user's row first, then the tokens (the order a password change takes too): two links
      // of one user confirmed at once queue up here instead of deadlocking.
      await this.users.setPassword(tx, userId, passwordHash);
      if (!(await this.users.lockForSession(tx, userId))) throw this.unknownToken();
      const token = await this.resets.validToken(tokenHash, tx);
      // A link mailed to an address the account no longer has is dead (the email was changed).
      const { email } = await this.users.findActive(userId, tx);
      if (token?.userId !== userId || token.sentTo !== email) throw this.unknownToken();
      await this.resets.spendAllOf(tx, userId);
      await this.sessions.revokeAllOfUser(tx, userId, 'password_reset');
    });
  }

  /** A password change spends the reset links still out (they were for the old password). */
  spendAllOf(tx: Transaction, userId: string): Promise<void> {
    return this.resets.spendAllOf(tx, userId);
  }

  /** The job: a token and its mail when an active account has this email; nothing otherwise. */
  private async issue(email: string): Promise<void> {
    const user = await this.users.findForSignIn(email);
    if (!user) return;
    const token = BearerSecret.generate();
    await this.unitOfWork.run(async (tx) => {
      if ((await this.resets.issuedWithinHour(tx, user.id)) >= RESET_MAILS_PER_HOUR) {
        this.logger.log(`Password reset for user ${user.id} not sent: ${RESET_MAILS_PER_HOUR} already this hour`);
        return;
      }
      await this.resets.insert(tx, {
        userId: user.id,
        sentTo: user.email,
        tokenHash: BearerSecret.hash(token),
        ttlSeconds: PASSWORD_RESET_TTL_SECONDS,
      });
      await this.mailer.send(tx, {
        to: user.email,
        subject: 'Reset your Tasklane password',
        lines: [`Someone, hopefully you, asked to reset the password of your Tasklane account (${user.email}).`],
        action: { label: 'Choose a new password', url: `${this.config.appUrl}/reset-password?token=${token}` },
        footer: [
          'The link works once, within 30 minutes. Using it signs you out everywhere.',
          'If you did not ask for this, ignore this mail: your password stays as it is.',
        ],
      });
    });
  }

  private unknownToken(): ApiException {
    return new ApiException(HttpStatus.NOT_FOUND, 'NOT_FOUND', 'This password reset link is unknown, used or expired');
  }
}
