import { Injectable, OnModuleInit } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

// OWASP's argon2id recommendation: 19 MiB of memory, 2 iterations, 1 degree of parallelism.
const OPTIONS = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** argon2id hashing, run off the event loop by @node-rs/argon2. */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  /** Verified against when the email is unknown, so that both failures take the same time. */
  private decoy = '';

  async onModuleInit(): Promise<void> {
    this.decoy = await hash('decoy password, never matches', OPTIONS);
  }

  hash(password: string): Promise<string> {
    return hash(password, OPTIONS);
  }

  async verify(hashed: string | undefined, password: string): Promise<boolean> {
    if (hashed === undefined) {
      await verify(this.decoy, password).catch(() => false);
      return false;
    }
    return verify(hashed, password).catch(() => false);
  }
}
