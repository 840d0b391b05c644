import { randomBytes } from 'node:crypto';
import { BearerSecret } from '../common/auth/bearer-secret';

/**
 * An API key as its holder sends it: `tl_<prefix>_<secret>` — `tl_` says what it is (and lets
 * secret scanners find leaked ones), the prefix (12 hex characters, public) finds the key, and the
 * secret (256 random bits, 43 base64url characters) proves it; only the secret's SHA-256 is stored.
 */
export const API_KEY_TOKEN = /^tl_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
export const API_KEY_TOKEN_EXAMPLE = 'tl_3f9a1c0b7d2e_q9VwQwZ1m2lJk8Yx0c3RrT4uV5wX6yZ7aB8cD9eF0gH';

export interface NewApiKeyToken {
  token: string;
  prefix: string;
  secretHash: Buffer;
}

export const ApiKeyToken = {
  generate(): NewApiKeyToken {
    const prefix = randomBytes(6).toString('hex');
    const secret = BearerSecret.generate();
    return { token: `tl_${prefix}_${secret}`, prefix, secretHash: BearerSecret.hash(secret) };
  },

  /** The prefix and the secret's hash, or undefined for anything not shaped like a key. */
  parse(token: string): { prefix: string; secretHash: Buffer } | undefined {
    const match = API_KEY_TOKEN.exec(token);
    return match ? { prefix: match[1], secretHash: BearerSecret.hash(match[2]) } : undefined;
  },

  /** Whether a bearer credential is meant as an API key (rather than an access token). */
  looksLikeOne: (credential: string): boolean => credential.startsWith('tl_'),
};
