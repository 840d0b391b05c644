import { createHash, randomBytes } from 'node:crypto';

/**
 * The secrets Tasklane hands out and later recognizes — refresh tokens, invitation and
 * password-reset links: 256 random bits as 43 base64url characters, stored only as their SHA-256
 * (a fast hash is enough for random secrets of this size; passwords get argon2id).
 */
export const BearerSecret = {
  generate: (): string => randomBytes(32).toString('base64url'),
  hash: (secret: string): Buffer => createHash('sha256').update(secret).digest(),
};
