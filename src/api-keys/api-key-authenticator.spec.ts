import type { Notifications, Subscription } from '../database/notifications';
import type { UnitOfWork } from '../database/unit-of-work';
import {
  API_KEY_ACTIVITY_FLUSH_MS,
  API_KEY_CACHE_MAX_ENTRIES,
  API_KEY_CACHE_TTL_MS,
  ApiKeyAuthenticator,
} from './api-key-authenticator';
import { ApiKeyToken, NewApiKeyToken } from './api-key-token';
import type { ApiKeyCredential, ApiKeysRepository } from './api-keys.repository';

/**
 * What the authenticator keeps in memory, with the database behind it replaced by a table in
 * memory (the repository and the notifications are its only ways out): every map is bounded.
 */
describe('ApiKeyAuthenticator: what it holds in memory is bounded', () => {
  let keys: Map<string, { token: NewApiKeyToken; credential: ApiKeyCredential }>;
  let reads: string[];
  let written: string[][];
  let subscription: Subscription | undefined;
  let authenticator: ApiKeyAuthenticator;

  function issue(count: number): string[] {
    const tokens: string[] = [];
    for (let i = 0; i < count; i++) {
      const token = ApiKeyToken.generate();
      const credential: ApiKeyCredential = {
        id: `key-${keys.size}`,
        orgId: 'org-1',
        role: 'viewer',
        secretHash: token.secretHash,
        expiresAt: null,
        revokedAt: null,
      };
      keys.set(token.prefix, { token, credential });
      tokens.push(token.token);
    }
    return tokens;
  }

  beforeEach(async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    keys = new Map();
    reads = [];
    written = [];
    subscription = undefined;
    const repository = {
      credential: (prefix: string) => {
        reads.push(prefix);
        return Promise.resolve(keys.get(prefix)?.credential);
      },
      revokedWithin: () => Promise.resolve([]),
      recordUse: (_tx: unknown, ids: string[]) => {
        written.push(ids);
        return Promise.resolve();
      },
    } as unknown as ApiKeysRepository;
    const notifications = {
      listen: async (s: Subscription) => {
        subscription = s;
        await s.onListening();
      },
    } as unknown as Notifications;
    const unitOfWork = { run: (work: (tx: unknown) => Promise<unknown>) => work({}) } as unknown as UnitOfWork;
    authenticator = new ApiKeyAuthenticator(repository, notifications, unitOfWork);
    await authenticator.onApplicationBootstrap();
  });

  afterEach(async () => {
    await authenticator.beforeApplicationShutdown();
    jest.useRealTimers();
  });

  it('3× the cap of distinct keys: at most API_KEY_CACHE_MAX_ENTRIES cached, the first loaded forgotten first', async () => {
    const tokens = issue(3 * API_KEY_CACHE_MAX_ENTRIES);
    for (const token of tokens) await authenticator.verify(token);
    expect(authenticator.sizes).toMatchObject({ cached: API_KEY_CACHE_MAX_ENTRIES, loading: 0 });
    reads = [];
    await authenticator.verify(tokens[tokens.length - 1]);
    expect(reads).toEqual([]); // still in memory
    await authenticator.verify(tokens[0]);
    expect(reads).toHaveLength(1); // forgotten, read again
    expect(authenticator.sizes.cached).toBe(API_KEY_CACHE_MAX_ENTRIES);
  });

  it('keys presented that do not exist take no room (nothing cached, nothing left loading)', async () => {
    issue(1);
    for (let i = 0; i < 1_000; i++) {
      const unknown = ApiKeyToken.generate().token;
      await expect(authenticator.verify(unknown)).rejects.toThrow('Invalid API key');
    }
    expect(authenticator.sizes).toMatchObject({ cached: 0, loading: 0 });
  });

  it('keys read longer ago than the TTL and revocations past their retention are swept', async () => {
    const tokens = issue(200);
    for (const token of tokens) await authenticator.verify(token);
    subscription!.onMessage(Array.from({ length: 150 }, (_, i) => `revoked-${i}`).join(','));
    expect(authenticator.sizes).toMatchObject({ cached: 200, revoked: 150 });
    // The next flush writes the uses noted and empties their buffer.
    await jest.advanceTimersByTimeAsync(API_KEY_ACTIVITY_FLUSH_MS);
    expect(written.flat()).toHaveLength(200);
    expect(authenticator.sizes.uses).toBe(0);
    await jest.advanceTimersByTimeAsync(API_KEY_CACHE_TTL_MS);
    expect(authenticator.sizes).toMatchObject({ cached: 0, revoked: 150 });
    // Revocations are kept twice the TTL (a read begun before one must still be refused).
    await jest.advanceTimersByTimeAsync(API_KEY_CACHE_TTL_MS);
    expect(authenticator.sizes.revoked).toBe(0);
  });

  it('a swept key is read again and accepted: the sweep forgets nothing that is still true', async () => {
    const [token] = issue(1);
    await authenticator.verify(token);
    await jest.advanceTimersByTimeAsync(API_KEY_CACHE_TTL_MS + API_KEY_ACTIVITY_FLUSH_MS);
    expect(authenticator.sizes.cached).toBe(0);
    reads = [];
    await expect(authenticator.verify(token)).resolves.toMatchObject({ kind: 'apiKey', id: 'key-0' });
    expect(reads).toHaveLength(1);
  });
});
