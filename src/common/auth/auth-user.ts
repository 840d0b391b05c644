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

/**
 * `principal` is set for every authenticated request; `user` only when a person signed in (an
 * access token), never for an API key.
 */
export type AuthenticatedRequest = { user?: AuthUser; principal?: Principal };

export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthUser => ctx.switchToHttp().getRequest<AuthenticatedRequest>().user!,
);

/** The roles an API key may hold (contract §18): never an owner. */
export const API_KEY_ROLES = ['admin', 'member', 'viewer'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/**
 * Who is acting, as the access policy sees it: a signed-in person, or an org API key (contract
 * §18), which acts with its role inside its own org only. A key's `orgId` and `role` say what it
 * was issued for (logs, tests); access itself is decided as for a person, by the membership
 * lookup (the org_principals view), so that a key revoked or expired meanwhile finds no role.
 */
export type Principal = { kind: 'user'; id: string } | { kind: 'apiKey'; id: string; orgId: string; role: ApiKeyRole };

export type PrincipalKind = Principal['kind'];
export const PRINCIPAL_KINDS: readonly PrincipalKind[] = ['user', 'apiKey'];

/**
 * A principal in a request: what audit events record, and what the request adds to the
 * transaction of its change (the response of an Idempotency-Key request, stored with it).
 */
export type Actor = Principal & UnitOfWorkActor & { requestId: string };

export type ActorRequest = AuthenticatedRequest & { id: string; beforeCommit?: BeforeCommit };

export const CurrentActor = createParamDecorator((_data: unknown, ctx: ExecutionContext): Actor => {
  const req = ctx.switchToHttp().getRequest<ActorRequest>();
  return { ...req.principal!, requestId: req.id, beforeCommit: req.beforeCommit };
});
