import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { BeforeCommit, UnitOfWorkActor } from '../../database/unit-of-work';

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

/**
 * Who is acting, as the access policy sees it. A signed-in user today; an org API key
 * (contract §18) will be a second kind.
 */
export interface Principal {
  kind: 'user';
  id: string;
}

/**
 * A principal in a request: what audit events record, and what the request adds to the
 * transaction of its change (the response of an Idempotency-Key request, stored with it).
 */
export interface Actor extends Principal, UnitOfWorkActor {
  requestId: string;
}

export type ActorRequest = AuthenticatedRequest & { id: string; beforeCommit?: BeforeCommit };

export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<ActorRequest>();
  return { kind: 'user', id: req.user!.id, requestId: req.id, beforeCommit: req.beforeCommit };
});
