import { Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import { ApiException } from '../common/http/api-exception';
import { AppConfig } from '../config/app-config';

const MINUTE_MS = 60_000;
const ACCOUNT_WINDOW_MS = 15 * MINUTE_MS;

export type AttemptPurpose = 'login' | 'reset';
const PREFIXES: Record<AttemptPurpose, string> = { login: '', reset: 'reset:' };

/**
 * Sign-in attempts are limited per client IP (LOGIN_RATE_LIMIT_PER_IP a minute) and per email
 * from that IP (LOGIN_RATE_LIMIT_PER_ACCOUNT per 15 minutes). Keying the account limit by IP
 * too means an attacker guessing someone's password locks out only themselves: the owner,
 * from their own address, can still sign in. Counters live in the throttler storage (Redis
 * when REDIS_URL is set), so every instance shares them.
 */
@Injectable()
export class LoginRateLimiter {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly config: AppConfig,
  ) {}

  /**
   * `purpose` keeps the counters of password-reset requests apart from those of signing in: the
   * same limits, but asking for resets never locks anyone out of signing in, nor the reverse.
   */
  async check(ip: string, email: string, purpose: AttemptPurpose = 'login'): Promise<void> {
    const { LOGIN_RATE_LIMIT_PER_IP, LOGIN_RATE_LIMIT_PER_ACCOUNT } = this.config.env;
    const prefix = PREFIXES[purpose];
    await this.hit(`${prefix}ip:${ip}`, MINUTE_MS, LOGIN_RATE_LIMIT_PER_IP);
    await this.hit(`${prefix}account:${email}:${ip}`, ACCOUNT_WINDOW_MS, LOGIN_RATE_LIMIT_PER_ACCOUNT);
  }

  /** The per-IP limit alone, for attempts that name no account (a password-reset token). */
  async checkAddress(ip: string, purpose: AttemptPurpose = 'login'): Promise<void> {
    await this.hit(`${PREFIXES[purpose]}ip:${ip}`, MINUTE_MS, this.config.env.LOGIN_RATE_LIMIT_PER_IP);
  }

  private async hit(key: string, windowMs: number, limit: number): Promise<void> {
    const record = await this.storage.increment(key, windowMs, limit, windowMs, 'login');
    if (record.isBlocked) throw ApiException.rateLimited(record.timeToBlockExpire);
  }
}
