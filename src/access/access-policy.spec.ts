import { API_KEY_ROLES, Principal } from '../common/auth/auth-user';
import { ORG_ROLES, OrgRole } from './org-roles';
import { ACCESS_MATRIX, Action, can, requireAccess } from './access-policy';

const ME: Principal = { kind: 'user', id: '00000000-0000-4000-8000-000000000001' };
const SOMEONE_ELSE = '00000000-0000-4000-8000-000000000002';
const KEY_ID = '00000000-0000-4000-8000-000000000003';
const ORG_ID = '00000000-0000-4000-8000-000000000004';

/**
 * The contract's tables (§7–§12, §16), written out again role by role, independently of the matrix:
 * which roles may do each action to someone else's resource, and whether the resource's own
 * person (author, uploader, the member themself) may whatever their role, and whether an API key
 * may ever do it (§18: keys never manage API keys, members, invitations or webhooks).
 */
const CONTRACT: Record<Action, { roles: OrgRole[]; own: boolean; keys?: false }> = {
  'org.read': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'org.update': { roles: ['owner', 'admin'], own: false },
  'org.delete': { roles: ['owner'], own: false },
  'member.read': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'member.add': { roles: ['owner', 'admin'], own: false, keys: false },
  'member.changeRole': { roles: ['owner', 'admin'], own: false, keys: false },
  'member.remove': { roles: ['owner', 'admin'], own: true, keys: false },
  'owner.grant': { roles: ['owner'], own: false, keys: false },
  'owner.remove': { roles: ['owner'], own: true, keys: false },
  'project.read': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'project.create': { roles: ['owner', 'admin'], own: false },
  'project.update': { roles: ['owner', 'admin'], own: false },
  'project.delete': { roles: ['owner', 'admin'], own: false },
  'task.read': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'task.create': { roles: ['owner', 'admin', 'member'], own: false },
  'task.update': { roles: ['owner', 'admin', 'member'], own: false },
  'task.delete': { roles: ['owner', 'admin', 'member'], own: false },
  'comment.read': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'comment.create': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'comment.update': { roles: [], own: true },
  'comment.delete': { roles: ['owner', 'admin'], own: true },
  'attachment.read': { roles: ['owner', 'admin', 'member', 'viewer'], own: false },
  'attachment.create': { roles: ['owner', 'admin', 'member'], own: false },
  'attachment.delete': { roles: ['owner', 'admin'], own: true },
  'audit.read': { roles: ['owner', 'admin'], own: false },
  'invitation.create': { roles: ['owner', 'admin'], own: false, keys: false },
  'invitation.read': { roles: ['owner', 'admin'], own: false, keys: false },
  'invitation.revoke': { roles: ['owner', 'admin'], own: false, keys: false },
  'apiKey.create': { roles: ['owner', 'admin'], own: false, keys: false },
  'apiKey.read': { roles: ['owner', 'admin'], own: false, keys: false },
  'apiKey.revoke': { roles: ['owner', 'admin'], own: false, keys: false },
  'webhook.create': { roles: ['owner', 'admin'], own: false, keys: false },
  'webhook.read': { roles: ['owner', 'admin'], own: false, keys: false },
  'webhook.update': { roles: ['owner', 'admin'], own: false, keys: false },
  'webhook.delete': { roles: ['owner', 'admin'], own: false, keys: false },
  'webhook.deliver': { roles: ['owner', 'admin'], own: false, keys: false },
};

describe('the access matrix', () => {
  it('declares exactly the actions the contract names', () => {
    expect(Object.keys(ACCESS_MATRIX).sort()).toEqual(Object.keys(CONTRACT).sort());
  });

  const cells = (Object.keys(CONTRACT) as Action[]).flatMap((action) =>
    ORG_ROLES.flatMap((role) => [
      { action, role, mine: false, allowed: CONTRACT[action].roles.includes(role) },
      { action, role, mine: true, allowed: CONTRACT[action].roles.includes(role) || CONTRACT[action].own },
    ]),
  );

  it.each(cells)('$action by a $role (own resource: $mine) → allowed: $allowed', ({ action, role, mine, allowed }) => {
    const target = { role, ownerId: mine ? ME.id : SOMEONE_ELSE };
    expect(can(ME, action, target)).toBe(allowed);
    if (allowed) expect(() => requireAccess(ME, action, target)).not.toThrow();
    else expect(() => requireAccess(ME, action, target)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
  });

  const keyCells = (Object.keys(CONTRACT) as Action[]).flatMap((action) =>
    API_KEY_ROLES.flatMap((role) => [
      { action, role, mine: false, allowed: CONTRACT[action].keys !== false && CONTRACT[action].roles.includes(role) },
      {
        action,
        role,
        mine: true,
        allowed: CONTRACT[action].keys !== false && (CONTRACT[action].roles.includes(role) || CONTRACT[action].own),
      },
    ]),
  );

  it.each(keyCells)(
    '$action by an API key with role $role (own resource: $mine) → allowed: $allowed',
    ({ action, role, mine, allowed }) => {
      const key: Principal = { kind: 'apiKey', id: KEY_ID, orgId: ORG_ID, role };
      const target = { role, ownerId: mine ? KEY_ID : SOMEONE_ELSE };
      expect(can(key, action, target)).toBe(allowed);
      if (!allowed)
        expect(() => requireAccess(key, action, target)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    },
  );

  it('tells an API key that keys may not manage people', () => {
    const key: Principal = { kind: 'apiKey', id: KEY_ID, orgId: ORG_ID, role: 'admin' };
    expect(() => requireAccess(key, 'member.add', { role: 'admin' })).toThrow('An API key may not add members');
  });

  it('never treats a resource with no owner as the caller’s own', () => {
    expect(can(ME, 'comment.update', { role: 'owner' })).toBe(false);
  });

  it('names the role and the action in the 403', () => {
    expect(() => requireAccess(ME, 'task.create', { role: 'viewer' })).toThrow(
      'Your role (viewer) does not allow you to create tasks',
    );
    expect(() => requireAccess(ME, 'comment.update', { role: 'admin', ownerId: SOMEONE_ELSE })).toThrow(
      'Only the author may edit a comment',
    );
  });
});
