import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';

/** Where a sign-in comes from, as the session list shows it later. */
export interface SignInClient {
  /** The User-Agent header, if any. */
  userAgent: string | null;
  /** `req.ip`: the socket's address, or the client's from X-Forwarded-For under TRUST_PROXY. */
  ip: string | null;
}

/** The SignInClient of the request, for the routes that start a session. */
export const SignInFrom = createParamDecorator((_data: unknown, ctx: ExecutionContext): SignInClient => {
  const req = ctx.switchToHttp().getRequest<Request>();
  return { userAgent: req.headers['user-agent'] ?? null, ip: req.ip ?? null };
});
