import { applyDecorators, createParamDecorator, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiParam } from '@nestjs/swagger';
import type { Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { AccessRepository } from './access.repository';
import { Action, requireAccess } from './access-policy';
import type { OrgRole } from './org-roles';
import { RouteAccess, RouteAccessGuard, RouteRequest } from './route-access.guard';

/** The caller's membership in the route's org, as @OrgAccess found it. */
export interface Membership {
  orgId: string;
  role: OrgRole;
}

type OrgRequest = RouteRequest & { membership?: Membership };

/** Routes under /orgs/{orgId}: one indexed query for the caller's role there. */
@Injectable()
export class OrgAccessGuard extends RouteAccessGuard {
  protected readonly parameter = 'orgId';

  constructor(
    reflector: Reflector,
    private readonly access: AccessRepository,
  ) {
    super(reflector);
  }

  protected async authorize(principal: Principal, orgId: string, action: Action, req: OrgRequest): Promise<void> {
    const role = await this.access.roleIn(principal, orgId);
    if (!role) throw ApiException.notFound('Organization');
    requireAccess(principal, action, { role });
    req.membership = { orgId, role };
  }
}

/** `/orgs/{orgId}/…` routes: a member allowed `action`, checked before the handler. */
export const OrgAccess = (action: Action): MethodDecorator =>
  applyDecorators(
    RouteAccess(OrgAccessGuard, action),
    ApiParam({ name: 'orgId', schema: { type: 'string', format: 'uuid', maxLength: 36 } }),
  );

/** The caller's membership in the route's org, as checked by @OrgAccess. */
export const CurrentMembership = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Membership => ctx.switchToHttp().getRequest<OrgRequest>().membership!,
);
