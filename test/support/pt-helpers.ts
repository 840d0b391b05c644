import { randomBytes } from 'node:crypto';
import type { AuditEventBody } from './bodies';
import { expectItems } from './envelope';
import { auditUrl, orgApi } from './orgs-helpers';
import type { TestApp } from './test-app';
import { bearer, registerUser, SignedInUser } from './users';

// Helpers shared by test/projects.e2e-spec.ts and test/tasks.e2e-spec.ts.

export const ROLES = ['owner', 'admin', 'member', 'viewer', 'outsider'] as const;
export type Caller = (typeof ROLES)[number];
export type MemberRole = Exclude<Caller, 'outsider'>;

/** An org with one signed-in user per role, and a signed-in user who is not a member. */
export interface RoleOrg {
  orgId: string;
  users: Record<Caller, SignedInUser>;
}

export async function createOrg(t: TestApp, owner: SignedInUser, name = 'Test Org'): Promise<string> {
  return (await orgApi(t).createOrg(owner, { name })).id;
}

export async function addMember(
  t: TestApp,
  orgId: string,
  by: SignedInUser,
  user: SignedInUser,
  role: MemberRole,
): Promise<void> {
  await orgApi(t).addMember(by, orgId, user.email, role);
}

export async function createRoleOrg(t: TestApp, name = 'Role Org'): Promise<RoleOrg> {
  const [owner, admin, member, viewer, outsider] = await Promise.all(
    ROLES.map((role) => registerUser(t, { name: `The ${role}` })),
  );
  const orgId = await createOrg(t, owner, name);
  for (const [user, role] of [
    [admin, 'admin'],
    [member, 'member'],
    [viewer, 'viewer'],
  ] as const) {
    await addMember(t, orgId, owner, user, role);
  }
  return { orgId, users: { owner, admin, member, viewer, outsider } };
}

/** The org's audit events (as a caller allowed to read them), newest first. */
export async function auditEvents(
  t: TestApp,
  orgId: string,
  reader: SignedInUser,
  query: Record<string, string> = {},
): Promise<AuditEventBody[]> {
  const res = await t
    .http()
    .get(auditUrl(orgId))
    .query({ limit: '100', ...query })
    .set(bearer(reader.accessToken));
  return expectItems<AuditEventBody>(res);
}

let keySeq = 0;
/** A project key not used before in this test file: 2–10 of A-Z0-9. */
export const freshKey = (prefix = 'P'): string => `${prefix}${(++keySeq).toString(36).toUpperCase()}`;

/** An Idempotency-Key not used before. */
export const idemKey = (): string => `idem-${randomBytes(8).toString('hex')}`;

/** The API as one signed-in user: each method sends the user's bearer token. */
export function client(t: TestApp, user: SignedInUser) {
  return {
    get: (url: string) => t.http().get(url).set(bearer(user.accessToken)),
    post: (url: string, body: object) => t.http().post(url).set(bearer(user.accessToken)).send(body),
    put: (url: string, body: object) => t.http().put(url).set(bearer(user.accessToken)).send(body),
    patch: (url: string, body: object) => t.http().patch(url).set(bearer(user.accessToken)).send(body),
    delete: (url: string) => t.http().delete(url).set(bearer(user.accessToken)),
  };
}

/** A project (with a fresh key) and a task in it, in an org the user may write to: their ids. */
export async function createProjectTask(
  t: TestApp,
  user: SignedInUser,
  orgId: string,
): Promise<{ projectId: string; taskId: string }> {
  const as = client(t, user);
  const project = await as.post(`/api/v1/orgs/${orgId}/projects`, { key: freshKey('T'), name: 'Project' });
  const projectId = (project.body as { data: { id: string } }).data.id;
  const task = await as.post(`/api/v1/projects/${projectId}/tasks`, { title: 'Task' });
  return { projectId, taskId: (task.body as { data: { id: string } }).data.id };
}
