import {
  applyDecorators,
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiParam } from '@nestjs/swagger';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { notAUuid, UUID_PATTERN } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import type { OrgRole } from './org-roles';
import { AccessRepository } from './access.repository';
import { Action, requireAccess } from './access-policy';

const ORG_ACTION = 'tasklane:orgAction';

/** The caller's membership in the route's org, as @OrgAccess found it. */
export interface Membership {
  orgId: string;
  role: OrgRole;
}

type OrgRequest = AuthenticatedRequest & { params: Record<string, string>; membership?: Membership };

/**
 * Tenancy for routes under /orgs/{orgId}: the caller must be a member (else 404, as if the org
 * did not exist) allowed the route's action (else 403). One indexed query.
 */
@Injectable()
export class OrgAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly access: AccessRepository,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const action = this.reflector.get<Action>(ORG_ACTION, context.getHandler());
    const req = context.switchToHttp().getRequest<OrgRequest>();
    if (!UUID_PATTERN.test(req.params.orgId)) throw notAUuid('orgId');
    const orgId = req.params.orgId.toLowerCase();
    const principal = { kind: 'user', id: req.user!.id } as const;
    const role = await this.access.roleIn(principal, orgId);
    if (!role) throw ApiException.notFound('Organization');
    requireAccess(principal, action, { role });
    req.membership = { orgId, role };
    return true;
  }
}

/** `/orgs/{orgId}/…` routes: a member allowed `action`, checked before the handler. */
export const OrgAccess = (action: Action): MethodDecorator =>
  applyDecorators(
    SetMetadata(ORG_ACTION, action),
    UseGuards(OrgAccessGuard),
    ApiParam({ name: 'orgId', schema: { type: 'string', format: 'uuid', maxLength: 36 } }),
    ApiErrors(403, 404),
  );

/** The caller's membership in the route's org, as checked by @OrgAccess. */
export const CurrentMembership = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Membership => ctx.switchToHttp().getRequest<OrgRequest>().membership!,
);
