import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { SealedPayload } from '../jobs/sealed-payload';

/**
 * Webhook signing secrets: `whsec_` and 32 random bytes in base64 (the Standard Webhooks form).
 * Shown once, at creation; stored sealed (AES-256-GCM under a key derived from JWT_SECRET), since
 * signing needs the secret itself, not a hash of it. Rotating JWT_SECRET leaves the stored secrets
 * unreadable: deliveries then fail ("secret unreadable") until the webhooks are recreated.
 */
@Injectable()
export class WebhookSecrets {
  private readonly sealing: SealedPayload;

  constructor(config: AppConfig) {
    this.sealing = new SealedPayload(config.jwtSecret, 'webhook secrets');
  }

  generate(): string {
    return `whsec_${randomBytes(32).toString('base64')}`;
  }

  seal(secret: string): string {
    return this.sealing.seal(secret);
  }

  /** The secret; throws if it was sealed under another JWT_SECRET or altered. */
  open(sealed: string): string {
    return this.sealing.open<string>(sealed);
  }
}
