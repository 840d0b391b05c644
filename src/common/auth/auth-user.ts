import { createParamDecorator, ExecutionContext } from '@nestjs/common';

export type PlatformRole = 'user' | 'admin';
export const PLATFORM_ROLES: readonly PlatformRole[] = ['user', 'admin'];

/** Who is calling, as proven by the access token. */
export interface AuthUser {
  id: string;
  role: PlatformRole;
  /** The session (refresh-token family) the access token belongs to. */
  sessionId: string;
}

export type AuthenticatedRequest = { user?: AuthUser };

export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest<AuthenticatedRequest>().user!,
);

/** Who does a write, and in which request: what audit events record. */
export interface Actor {
  userId: string;
  requestId: string;
}

export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest & { id: string }>();
  return { userId: req.user!.id, requestId: req.id };
});
