import { applyDecorators, CanActivate, ExecutionContext, SetMetadata, Type, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthenticatedRequest, Principal } from '../common/auth/auth-user';
import { notAUuid, UUID_PATTERN } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import type { Action } from './access-policy';

const ROUTE_ACTION = 'tasklane:routeAction';

export type RouteRequest = AuthenticatedRequest & { params: Record<string, string> };

/**
 * Access to a route under a resource (/orgs/{orgId}/…, /projects/{projectId}/…,
 * /tasks/{taskId}/…), decided before interceptors run, so that an upload is refused before its
 * bytes are read and an Idempotency-Key replay never reaches someone who has lost access since:
 * the id is a UUID (else 400 naming it), and the caller may do the route's action there (not a
 * member → 404, too weak a role → 403). Services check again inside their transactions.
 */
export abstract class RouteAccessGuard implements CanActivate {
  /** The path parameter naming the resource. */
  protected abstract readonly parameter: string;

  constructor(private readonly reflector: Reflector) {}

  /** Throws 404 or 403 unless `principal` may do `action` on the resource `id`. */
  protected abstract authorize(principal: Principal, id: string, action: Action, req: RouteRequest): Promise<void>;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const action = this.reflector.get<Action>(ROUTE_ACTION, context.getHandler());
    const req = context.switchToHttp().getRequest<RouteRequest>();
    const id = req.params[this.parameter];
    // Here rather than in the route's UuidParam: pipes run after interceptors.
    if (!UUID_PATTERN.test(id)) throw notAUuid(this.parameter);
    await this.authorize(req.principal!, id.toLowerCase(), action, req);
    return true;
  }
}

/** A route guarded by `guard` for `action` (the decorators @OrgAccess, @ProjectAccess, @TaskAccess are this). */
export const RouteAccess = (guard: Type<RouteAccessGuard>, action: Action): MethodDecorator =>
  applyDecorators(SetMetadata(ROUTE_ACTION, action), UseGuards(guard), ApiErrors(403, 404));
