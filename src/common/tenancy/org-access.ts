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
import { DataSource } from 'typeorm';
import { AuthenticatedRequest } from '../auth/auth-user';
import { ApiException } from '../http/api-exception';
import { ApiErrors } from '../swagger/api-errors.decorator';
import { assertOrgRole, OrgRole } from './org-role';
import { notAUuid, UUID_PATTERN } from '../http/uuid-param';

const MINIMUM_ROLE = 'tasklane:minimumOrgRole';
export interface Membership {
  orgId: string;
  role: OrgRole;
}

type OrgRequest = AuthenticatedRequest & { params: Record<string, string>; membership?: Membership };

/**
 * Tenancy for routes under /orgs/{orgId}: the caller must be a member (else 404, as if the org
 * did not exist) with at least the given role (else 403). One indexed query.
 */
@Injectable()
export class OrgMembershipGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly dataSource: DataSource,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const minimum = this.reflector.get<OrgRole>(MINIMUM_ROLE, context.getHandler());
    const req = context.switchToHttp().getRequest<OrgRequest>();
    const orgId = req.params.orgId;
    if (!UUID_PATTERN.test(orgId)) throw notAUuid('orgId');
    const [row]: { role: OrgRole }[] = await this.dataSource.query(
      'SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2',
      [orgId.toLowerCase(), req.user!.id],
    );
    if (!row) throw ApiException.notFound('Organization');
    assertOrgRole(row.role, minimum);
    req.membership = { orgId: orgId.toLowerCase(), role: row.role };
    return true;
  }
}

/** `/orgs/{orgId}/…` routes: membership with at least `minimum`, checked before the handler. */
export const OrgAccess = (minimum: OrgRole): MethodDecorator =>
  applyDecorators(
    SetMetadata(MINIMUM_ROLE, minimum),
    UseGuards(OrgMembershipGuard),
    ApiParam({ name: 'orgId', schema: { type: 'string', format: 'uuid', maxLength: 36 } }),
    ApiErrors(403, 404),
  );

/** The caller's membership in the route's org, as checked by @OrgAccess. */
export const CurrentMembership = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): Membership => ctx.switchToHttp().getRequest<OrgRequest>().membership!,
);
