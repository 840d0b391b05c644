import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { HelmetOptions } from 'helmet';

type Middleware = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * helmet's headers, computed once: helmet is run at boot against a response that records what
 * it sets and removes, and the middleware returned replays that on every response. The same
 * headers, with the same values, as `helmet(options)`, in one step instead of helmet's twelve
 * middlewares. Only for options whose headers do not depend on the request (no CSP nonces):
 * anything else fails here, at boot.
 */
export function securityHeaders(options: HelmetOptions): Middleware {
  if (hasFunction(options)) throw new Error('securityHeaders: an option is computed per request');
  const set: [string, string][] = [];
  const removed: string[] = [];
  const recorder = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') throw new Error(`securityHeaders: ${name} is not a constant string`);
      set.push([name, value]);
    },
    removeHeader(name: string) {
      removed.push(name);
    },
  };
  let done = false;
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
    done = true;
  });
  if (!done) throw new Error('securityHeaders: helmet did not finish synchronously');

  return (_req, res, next) => {
    for (let i = 0; i < set.length; i++) res.setHeader(set[i][0], set[i][1]);
    for (let i = 0; i < removed.length; i++) res.removeHeader(removed[i]);
    next();
  };
}

function hasFunction(value: unknown): boolean {
  if (typeof value === 'function') return true;
  if (value === null || typeof value !== 'object') return false;
  return Object.values(value).some(hasFunction);
}
