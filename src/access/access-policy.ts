import type { Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { OrgRole, roleAtLeast } from './org-roles';

/**
 * Who may do what inside an organization, as contract §7–§12 state it. Each action names the
 * weakest role that may do it (`minimum`), and whether the resource's own person may do it
 * whatever their role (`own`: a comment's author, an attachment's uploader, a member leaving),
 * and whether only people may do it (`people`: never an API key).
 * An action with `own` and no `minimum` is for that person only. A reader can check this table
 * line by line against the contract; src/access/access-policy.spec.ts walks all of it.
 */
export const ACCESS_MATRIX = {
  // §7 organizations and members
  'org.read': { minimum: 'viewer', doing: 'see this organization' },
  'org.update': { minimum: 'admin', doing: 'change this organization' },
  'org.delete': { minimum: 'owner', doing: 'delete this organization' },
  'member.read': { minimum: 'viewer', doing: 'see members' },
  'member.add': { minimum: 'admin', people: true, doing: 'add members' },
  'member.changeRole': { minimum: 'admin', people: true, doing: "change members' roles" },
  'member.remove': { minimum: 'admin', own: 'member', people: true, doing: 'remove members' },
  /** Making someone an owner (adding or promoting), or changing an owner's role. */
  'owner.grant': { minimum: 'owner', people: true, doing: "grant or change an owner's role" },
  'owner.remove': { minimum: 'owner', own: 'member', people: true, doing: 'remove an owner' },
  // §8 projects
  'project.read': { minimum: 'viewer', doing: 'see projects' },
  'project.create': { minimum: 'admin', doing: 'create projects' },
  'project.update': { minimum: 'admin', doing: 'change projects' },
  'project.delete': { minimum: 'admin', doing: 'delete projects' },
  // §9 tasks
  'task.read': { minimum: 'viewer', doing: 'see tasks' },
  'task.create': { minimum: 'member', doing: 'create tasks' },
  'task.update': { minimum: 'member', doing: 'change tasks' },
  'task.delete': { minimum: 'member', doing: 'delete tasks' },
  // §10 comments
  'comment.read': { minimum: 'viewer', doing: 'see comments' },
  'comment.create': { minimum: 'viewer', doing: 'comment' },
  'comment.update': { own: 'author', doing: 'edit a comment' },
  'comment.delete': { minimum: 'admin', own: 'author', doing: "delete others' comments" },
  // §11 attachments
  'attachment.read': { minimum: 'viewer', doing: 'see attachments' },
  'attachment.create': { minimum: 'member', doing: 'upload attachments' },
  'attachment.delete': { minimum: 'admin', own: 'uploader', doing: "delete others' attachments" },
  // §12 audit log
  'audit.read': { minimum: 'admin', doing: 'read the audit log' },
  // §16 invitations (inviting someone as owner also takes owner.grant)
  'invitation.create': { minimum: 'admin', people: true, doing: 'invite people' },
  'invitation.read': { minimum: 'admin', people: true, doing: 'see invitations' },
  'invitation.revoke': { minimum: 'admin', people: true, doing: 'revoke invitations' },
  // §18 API keys
  'apiKey.create': { minimum: 'admin', people: true, doing: 'create API keys' },
  'apiKey.read': { minimum: 'admin', people: true, doing: 'see API keys' },
  'apiKey.revoke': { minimum: 'admin', people: true, doing: 'revoke API keys' },
  // §19 webhooks
  'webhook.create': { minimum: 'admin', people: true, doing: 'create webhooks' },
  'webhook.read': { minimum: 'admin', people: true, doing: 'see webhooks' },
  'webhook.update': { minimum: 'admin', people: true, doing: 'change webhooks' },
  'webhook.delete': { minimum: 'admin', people: true, doing: 'delete webhooks' },
  'webhook.deliver': { minimum: 'admin', people: true, doing: 'redeliver or ping webhooks' },
} as const satisfies Record<string, Rule>;

interface Rule {
  minimum?: OrgRole;
  /** Who, besides the roles from `minimum` up, may: the person the resource belongs to. */
  own?: 'author' | 'uploader' | 'member';
  /** People only: an API key may never do it, whatever its role (contract §18). */
  people?: true;
  /** Ends the 403's "Your role (viewer) does not allow you to …" or "Only the author may …". */
  doing: string;
}

export type Action = keyof typeof ACCESS_MATRIX;

/**
 * What the policy needs to know of a resource: the principal's role in the resource's org, as
 * the membership lookup found it (a principal with none never gets this far: it gets 404), and
 * whose the resource is, for the `own` rules.
 */
export interface AccessTarget {
  role: OrgRole;
  ownerId?: string;
}

export function can(principal: Principal, action: Action, target: AccessTarget): boolean {
  const rule: Rule = ACCESS_MATRIX[action];
  if (rule.people && principal.kind !== 'user') return false;
  if (rule.own !== undefined && target.ownerId !== undefined && target.ownerId === principal.id) return true;
  return rule.minimum !== undefined && roleAtLeast(target.role, rule.minimum);
}

/** The one permission check: 403 naming the role and the action when `can` says no. */
export function requireAccess(principal: Principal, action: Action, target: AccessTarget): void {
  if (can(principal, action, target)) return;
  const rule: Rule = ACCESS_MATRIX[action];
  if (rule.people && principal.kind !== 'user') throw ApiException.forbidden(`An API key may not ${rule.doing}`);
  throw ApiException.forbidden(
    rule.minimum === undefined
      ? `Only the ${rule.own} may ${rule.doing}`
      : `Your role (${target.role}) does not allow you to ${rule.doing}`,
  );
}
