import createClient, {
  type Client,
  type ClientPathsWithMethod,
  type FetchResponse,
  type MaybeOptionalInit,
} from 'openapi-fetch';
import { TasklaneError } from './errors';
import { idempotentOperations, publicOperations } from './operations';
import type { components, paths } from './schema';

/** How the client authenticates: it signs in itself, resumes a session, or uses an org API key. */
export type Credentials =
  { email: string; password: string } | { accessToken: string; refreshToken?: string } | { apiKey: string };

/** A new session's tokens, as sign-in and refresh return them. */
export type Tokens = Pick<components['schemas']['AuthTokensResponse'], 'accessToken' | 'refreshToken' | 'expiresIn'>;

/** The tokens the client holds: a refresh token only when it has one. */
export type SessionTokens = { accessToken: string; refreshToken?: string };

export interface TasklaneClientOptions {
  /** Where the API is, such as `https://tasklane.example.com` (the paths start at `/api/v1`). */
  baseUrl: string;
  credentials?: Credentials;
  /** Called with every new pair of tokens (sign-in, refresh), for the app to keep them. */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
  /** The fetch to send requests with (default: `globalThis.fetch`). */
  fetch?: (request: Request) => Promise<Response>;
  /** Retries after a network error or a Retry-After answer; default 2, 0 for none. */
  retries?: number;
  /** The longest wait before a retry, in milliseconds (default 10,000): a longer Retry-After is not waited for. */
  maxRetryDelayMs?: number;
}

type Method = 'get' | 'put' | 'post' | 'delete' | 'patch';
type Media = `${string}/${string}`;
type GetPath = ClientPathsWithMethod<Client<paths>, 'get'>;
/** The operation at a path and method (openapi-fetch's constraint on it, stated). */
type Operation<T> = T extends Record<string | number, unknown> ? T : never;

// As openapi-fetch types the second argument: required when the operation has required parameters or a body.
type RequiredKeysOf<T> = { [K in keyof T]-?: object extends Pick<T, K> ? never : K }[keyof T];
type InitParam<Init> =
  RequiredKeysOf<Init> extends never ? [(Init & { [key: string]: unknown })?] : [Init & { [key: string]: unknown }];

/** A call's result when it succeeded: `data` is the response body (`{data, meta}`), `response` the raw response. */
export type Success<R> = Extract<R, { data: unknown }>;

/** A method that resolves with the success, and throws a TasklaneError for any other answer. */
export type Call<M extends Method> = <
  P extends ClientPathsWithMethod<Client<paths>, M>,
  Init extends MaybeOptionalInit<paths[P], M>,
>(
  url: P,
  ...init: InitParam<Init>
) => Promise<Success<FetchResponse<Operation<paths[P][M]>, Init, Media>>>;

type ListBody<P extends GetPath> = Success<FetchResponse<Operation<paths[P]['get']>, object, Media>>['data'];

/** The GET paths that answer one page of a list, `{data: [...], meta: {page: {nextCursor}}}`. */
export type ListPath = {
  [P in GetPath]: ListBody<P> extends { data: unknown[]; meta: { page: { nextCursor: string | null } } } ? P : never;
}[GetPath];

/** The items of a list path. */
export type ItemOf<P extends ListPath> = ListBody<P> extends { data: (infer T)[] } ? T : never;

export interface TasklaneClient {
  GET: Call<'get'>;
  POST: Call<'post'>;
  PUT: Call<'put'>;
  PATCH: Call<'patch'>;
  DELETE: Call<'delete'>;
  /**
   * Every item of a list, page after page (following `meta.page.nextCursor`), one request per
   * page as the loop reaches it. `params.query.limit` sets the page size.
   */
  paginate<P extends ListPath, Init extends MaybeOptionalInit<paths[P], 'get'>>(
    url: P,
    ...init: InitParam<Init>
  ): AsyncGenerator<ItemOf<P>, void, undefined>;
  /** Signs in (with these, else the configured email and password) and keeps the session. */
  signIn(credentials?: { email: string; password: string }): Promise<Tokens>;
  /** Ends the session on the server (its tokens stop working) and forgets it. */
  signOut(): Promise<void>;
  /** The tokens the client holds now, if it holds a session. */
  readonly tokens: SessionTokens | undefined;
  /** openapi-fetch's client underneath (same credentials and retries): answers `{data}` or `{error}` without throwing. */
  readonly raw: Client<paths>;
}

type RawResult = { data?: unknown; error?: unknown; response: Response };
type RawRequest = (method: string, url: string, init?: Record<string, unknown>) => Promise<RawResult>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Retry-After in milliseconds: delay-seconds or an HTTP date. */
function retryAfterMs(response: Response): number | undefined {
  const value = response.headers.get('Retry-After')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

/**
 * A Tasklane client, typed from the API's OpenAPI document. It authenticates every request that
 * needs it (and renews an expired session once, for all requests waiting on it), sends an
 * Idempotency-Key with the creations that take one, retries what is safe to retry, and throws
 * {@link TasklaneError} for answers that are not successes.
 */
export function createTasklaneClient(options: TasklaneClientOptions): TasklaneClient {
  const { credentials, onTokens } = options;
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const retries = options.retries ?? 2;
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
  const apiKey = credentials && 'apiKey' in credentials ? credentials.apiKey : undefined;
  const password = credentials && 'password' in credentials ? credentials : undefined;
  let session: SessionTokens | undefined = credentials && 'accessToken' in credentials ? { ...credentials } : undefined;
  /** The refresh or sign-in under way: every request that needs new tokens waits for this one. */
  let renewal: Promise<boolean> | undefined;
  /** Why the last renewal came back empty: the server refused the refresh token and the password. */
  let refusal: TasklaneError | undefined;
  /** The requests the client put a session's access token on (which a 401 may renew). */
  const withSession = new WeakSet<Request>();
  /** Requests to operations that honour an Idempotency-Key, which they carry (the server ignores it elsewhere). */
  const keyed = new WeakSet<Request>();

  const raw = createClient<paths>({ baseUrl: options.baseUrl, fetch: (request) => transport(request) });
  const request = raw.request as unknown as RawRequest;

  async function adopt(tokens: Tokens): Promise<Tokens> {
    const { accessToken, refreshToken, expiresIn } = tokens;
    session = { accessToken, refreshToken };
    await onTokens?.({ accessToken, refreshToken, expiresIn });
    return { accessToken, refreshToken, expiresIn };
  }

  async function signIn(given = password): Promise<Tokens> {
    if (!given) throw new Error('signIn: no email and password given or configured');
    const { data, error, response } = await raw.POST('/api/v1/auth/login', {
      body: { email: given.email, password: given.password },
    });
    if (!data) throw new TasklaneError(response, error);
    return adopt(data.data);
  }

  /** New tokens: refreshed, else signed in again; false when the server refuses both (401). */
  async function obtainTokens(): Promise<boolean> {
    const refreshToken = session?.refreshToken;
    if (refreshToken) {
      const { data, error, response } = await raw.POST('/api/v1/auth/refresh', { body: { refreshToken } });
      if (data) {
        await adopt(data.data);
        return true;
      }
      refusal = new TasklaneError(response, error);
      if (response.status !== 401) throw refusal;
      session = undefined; // spent, expired or revoked
    }
    if (!password) return false;
    try {
      await signIn();
      return true;
    } catch (error) {
      if (!(error instanceof TasklaneError && error.status === 401)) throw error;
      refusal = error;
      return false;
    }
  }

  /** Renews the session, once for all callers: unless it has changed since `stale` was sent. */
  function renew(stale?: string): Promise<boolean> {
    if (stale !== undefined && session && session.accessToken !== stale) return Promise.resolve(true);
    if (!renewal) {
      const current = obtainTokens();
      const done = () => {
        if (renewal === current) renewal = undefined;
      };
      current.then(done, done);
      renewal = current;
    }
    return renewal;
  }

  // Credentials and idempotency keys, by operation: what the document says of it (operations.ts).
  raw.use({
    async onRequest({ request: req, schemaPath }) {
      const operation = `${req.method} ${schemaPath}`;
      if (idempotentOperations.has(operation)) {
        if (!req.headers.has('Idempotency-Key')) req.headers.set('Idempotency-Key', crypto.randomUUID());
        keyed.add(req);
      }
      if (publicOperations.has(operation) || req.headers.has('Authorization')) return undefined;
      if (apiKey) {
        req.headers.set('Authorization', `Bearer ${apiKey}`);
        return undefined;
      }
      // Signed in on first use, when given an email and password.
      if (!session && password && !(await renew())) throw refusal;
      if (session) {
        req.headers.set('Authorization', `Bearer ${session.accessToken}`);
        withSession.add(req);
      }
      return undefined;
    },
  });

  /**
   * Safe to send again when the first answer may have been lost: reads, and creations whose
   * operation honours the Idempotency-Key they carry (a key on any other POST would be ignored).
   */
  const replayable = (req: Request) => req.method === 'GET' || req.method === 'HEAD' || keyed.has(req);

  /** Sends a request: once more with new tokens after a 401, and again after failures worth a retry. */
  async function transport(original: Request): Promise<Response> {
    let req = original;
    let renewed = !withSession.has(original);
    for (let attempt = 0; ;) {
      let response: Response;
      try {
        response = await send(req.clone());
      } catch (error) {
        if (attempt >= retries || !replayable(original)) throw error;
        await sleep(Math.min(maxRetryDelayMs, 250 * 2 ** attempt++));
        continue;
      }
      if (response.status === 401 && !renewed) {
        renewed = true;
        const sent = req.headers.get('Authorization')!.slice('Bearer '.length);
        if (!(await renew(sent)) || !session) return response;
        await response.body?.cancel();
        const headers = new Headers(req.headers);
        headers.set('Authorization', `Bearer ${session.accessToken}`);
        req = new Request(req, { headers });
        continue;
      }
      const wait = retryAfterMs(response);
      const worthIt =
        response.status === 429 || ((response.status === 503 || response.status === 409) && replayable(original));
      if (wait !== undefined && worthIt && wait <= maxRetryDelayMs && attempt < retries) {
        await response.body?.cancel();
        await sleep(wait);
        attempt++;
        continue;
      }
      return response;
    }
  }

  /** A call's result when it succeeded; else its TasklaneError. */
  async function succeed(method: string, url: string, init?: Record<string, unknown>): Promise<RawResult> {
    const result = await request(method, url, init);
    if (!result.response.ok) throw new TasklaneError(result.response, result.error);
    return result;
  }

  const call = <M extends Method>(method: M) =>
    ((url: string, init?: Record<string, unknown>) => succeed(method.toUpperCase(), url, init)) as Call<M>;

  async function* paginate(url: string, init: { params?: { query?: Record<string, unknown> } } = {}) {
    let cursor = init.params?.query?.cursor as string | undefined;
    do {
      const query = { ...init.params?.query, ...(cursor ? { cursor } : {}) };
      const { data } = await succeed('GET', url, { ...init, params: { ...init.params, query } });
      const page = data as { data: unknown[]; meta: { page: { nextCursor: string | null } } };
      yield* page.data;
      cursor = page.meta.page.nextCursor ?? undefined;
    } while (cursor);
  }

  return {
    GET: call('get'),
    POST: call('post'),
    PUT: call('put'),
    PATCH: call('patch'),
    DELETE: call('delete'),
    paginate: paginate as TasklaneClient['paginate'],
    signIn: (given) => signIn(given ?? password),
    async signOut() {
      const refreshToken = session?.refreshToken;
      session = undefined;
      if (!refreshToken) return;
      const { error, response } = await raw.POST('/api/v1/auth/logout', { body: { refreshToken } });
      if (!response.ok) throw new TasklaneError(response, error);
    },
    get tokens() {
      return session ? { ...session } : undefined;
    },
    raw,
  };
}
