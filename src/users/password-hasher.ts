import { Injectable, OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';
import { AppConfig } from '../config/app-config';

// OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * argon2id hashing, run off the event loop by @node-rs/argon2, at most PASSWORD_HASH_CONCURRENCY
 * at a time: a storm of sign-ins queues for the hashing threads instead of taking every core,
 * so that the other requests keep being served.
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when the email is unknown, so that both failures take the same time. */
  private decoy = '';
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly concurrency: number;

  constructor(config: AppConfig) {
    this.concurrency = config.env.PASSWORD_HASH_CONCURRENCY;
  }

  async onModuleInit(): Promise<void> {
    this.decoy = await hash('decoy password, never matches', OPTIONS);
  }

  hash(password: string): Promise<string> {
    return this.limited(() => hash(password, OPTIONS));
  }

  verify(hashed: string | undefined, password: string): Promise<boolean> {
    return this.limited(async () => {
      const ok = await verify(hashed ?? this.decoy, password).catch(() => false);
      return hashed !== undefined && ok;
    });
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next in line, or free it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
