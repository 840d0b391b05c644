import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

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

/** Work a request adds to the transaction of its change, run just before that transaction commits. */
export interface BeforeCommit {
  (manager: EntityManager, result: unknown): Promise<void>;
}

/**
 * Who does a write, and in which request: what audit events record, and what the request adds to
 * the transaction of its change (the response of an Idempotency-Key request, stored with it).
 */
export interface Actor {
  userId: string;
  requestId: string;
  beforeCommit?: BeforeCommit;
}

export type ActorRequest = AuthenticatedRequest & { id: string; beforeCommit?: BeforeCommit };

export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<ActorRequest>();
  return { userId: req.user!.id, requestId: req.id, beforeCommit: req.beforeCommit };
});
