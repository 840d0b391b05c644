import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { isIP } from 'node:net';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

/** Where a sign-in comes from, as the session list shows it later. */
export interface SignInClient {
  /** The User-Agent header, if any, as storedUserAgent keeps it. */
  userAgent: string | null;
  /** `req.ip` if it is an IP address: the socket's, or the client's from X-Forwarded-For under TRUST_PROXY. */
  ip: string | null;
}

/** Each run of characters outside printable ASCII (0x20–0x7E). */
const UNPRINTABLE = /[^\x20-\x7e]+/g;

/**
 * The User-Agent header as a session keeps it: printable ASCII (0x20–0x7E) as sent, a tab (HTTP
 * whitespace) as a space, each run of anything else replaced by one `?`, then trimmed; nothing
 * left is null. Node reads header bytes as Latin-1, so a UTF-8 `é` arrives as `Ã©` and would be
 * stored as that; it refuses NUL and the other control characters with a 400 before the app,
 * but lets a tab and every byte from 0x80 through. A sign-in is never refused for its
 * User-Agent: a browser's header is not the user's to fix. The session service then keeps at
 * most 512 characters of it.
 */
export function storedUserAgent(header: string | undefined): string | null {
  if (header === undefined) return null;
  return header.replace(/\t/g, ' ').replace(UNPRINTABLE, '?').trim() || null;
}

/** The addresses GET /auth/sessions documents (no IPv6 zone such as `%eth0`). */
const IP_ADDRESS = new RegExp(STRING_PATTERNS.ipAddress);

/**
 * The address as a session keeps it: `req.ip` when it is an IPv4 or IPv6 address, else null.
 * Under TRUST_PROXY Express takes it from X-Forwarded-For without checking that it is one: with
 * more hops trusted than there are proxies in front, it is whatever the client wrote there.
 */
export function storedIp(ip: string | undefined): string | null {
  return ip !== undefined && isIP(ip) !== 0 && IP_ADDRESS.test(ip) ? ip : null;
}

/** The SignInClient of the request, for the routes that start a session. */
export const SignInFrom = createParamDecorator((_data: unknown, ctx: ExecutionContext): SignInClient => {
  const req = ctx.switchToHttp().getRequest<Request>();
  return { userAgent: storedUserAgent(req.headers['user-agent']), ip: storedIp(req.ip) };
});
