import { ApiException } from '../http/api-exception';

/** Membership roles, strongest first. */
export const ORG_ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type OrgRole = (typeof ORG_ROLES)[number];

const RANK: Record<OrgRole, number> = { owner: 4, admin: 3, member: 2, viewer: 1 };

export function roleAtLeast(role: OrgRole, minimum: OrgRole): boolean {
  return RANK[role] >= RANK[minimum];
}

/** A member whose role is too weak gets 403 (non-members never get this far: they get 404). */
export function assertOrgRole(role: OrgRole, minimum: OrgRole, action = 'do this'): void {
  if (!roleAtLeast(role, minimum)) throw ApiException.forbidden(`Your role (${role}) does not allow you to ${action}`);
}
