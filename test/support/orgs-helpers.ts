import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { AuditEventBody, MEMBER_KEYS, MemberBody, ORG_KEYS, OrgBody, OrgRole } from './bodies';
import { expectData, expectError, expectList, expectNoContent, ISO_UTC, UUID } from './envelope';
import type { TestApp } from './test-app';
import { bearer, registerUser, SignedInUser } from './users';

/** Shared helpers of test/orgs.e2e-spec.ts and test/audit.e2e-spec.ts. */

export const ORGS = '/api/v1/orgs';
export const orgUrl = (orgId: string): string => `${ORGS}/${orgId}`;
export const membersUrl = (orgId: string): string => `${ORGS}/${orgId}/members`;
export const memberUrl = (orgId: string, userId: string): string => `${ORGS}/${orgId}/members/${userId}`;
export const auditUrl = (orgId: string): string => `${ORGS}/${orgId}/audit-events`;

/** Waits a few milliseconds, so that the next write gets a later (millisecond) timestamp. */
export const pause = (ms = 4): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A well-formed X-Request-Id of our own, to find in the audit trail. */
export const requestId = (label = 'req'): string => `${label}-${randomBytes(6).toString('hex')}`;

/** Exactly the status of a role-matrix cell, with the contract's error code for errors. */
export function expectOutcome(res: Response, status: number, list = false): void {
  const codes: Record<number, string> = {
    403: 'FORBIDDEN',
    404: 'NOT_FOUND',
    409: 'CONFLICT',
    412: 'PRECONDITION_FAILED',
  };
  if (status === 204) expectNoContent(res);
  else if (codes[status]) expectError(res, status, codes[status]);
  else if (list) {
    expect(status).toBe(200);
    expectList(res);
  } else expectData(res, status);
}

export function expectOrgShape(org: OrgBody): void {
  expect(Object.keys(org).sort()).toEqual(ORG_KEYS);
  expect(org.id).toMatch(UUID);
  expect(org.slug).toMatch(/^[a-z0-9-]{2,48}$/);
  expect(org.createdAt).toMatch(ISO_UTC);
  expect(org.updatedAt).toMatch(ISO_UTC);
  expect(Number.isInteger(org.version)).toBe(true);
}

export function expectMemberShape(member: MemberBody): void {
  expect(Object.keys(member).sort()).toEqual(MEMBER_KEYS);
  expect(Object.keys(member.user).sort()).toEqual(['email', 'id', 'name']);
  expect(member.user.id).toBe(member.userId);
  expect(member.createdAt).toMatch(ISO_UTC);
  expect(member.updatedAt).toMatch(ISO_UTC);
  expect(JSON.stringify(member)).not.toMatch(/password|hash|argon/i);
}

/** The Tasklane org API, as one signed-in user or another. */
export function orgApi(t: TestApp) {
  const as = (user: SignedInUser) => bearer(user.accessToken);
  return {
    createOrg: async (user: SignedInUser, body: Record<string, unknown>): Promise<OrgBody> =>
      expectData<OrgBody>(await t.http().post(ORGS).set(as(user)).send(body), 201),
    readOrg: async (user: SignedInUser, orgId: string): Promise<OrgBody> =>
      expectData<OrgBody>(await t.http().get(orgUrl(orgId)).set(as(user))),
    addMember: async (user: SignedInUser, orgId: string, email: string, role: OrgRole): Promise<MemberBody> =>
      expectData<MemberBody>(await t.http().post(membersUrl(orgId)).set(as(user)).send({ email, role }), 201),
    /** Every member, oldest first, walking all pages. */
    members: async (user: SignedInUser, orgId: string): Promise<MemberBody[]> => {
      const all: MemberBody[] = [];
      let cursor: string | null = null;
      do {
        const query: Record<string, string | number> = { limit: 100, ...(cursor ? { cursor } : {}) };
        const { data, page } = expectList<MemberBody>(await t.http().get(membersUrl(orgId)).query(query).set(as(user)));
        all.push(...data);
        cursor = page.nextCursor;
      } while (cursor);
      return all;
    },
  };
}

/** Registers `count` users (one argon2 hash each: cheap enough, but done once per file). */
export async function registerUsers(t: TestApp, count: number, name = 'Org User'): Promise<SignedInUser[]> {
  const users: SignedInUser[] = [];
  for (let i = 0; i < count; i++) users.push(await registerUser(t, { name: `${name} ${i + 1}` }));
  return users;
}

/** The audit_events rows of an org straight from the table (they outlive the org), newest first. */
export async function auditRows(t: TestApp, orgId: string): Promise<AuditEventBody[]> {
  return selectAudit(t, 'org_id = $1', [orgId]);
}

/** The audit_events rows written by one request (found by its X-Request-Id), newest first. */
export async function auditRowsOfRequest(t: TestApp, id: string): Promise<AuditEventBody[]> {
  return selectAudit(t, 'request_id = $1', [id]);
}

async function selectAudit(t: TestApp, where: string, parameters: unknown[]): Promise<AuditEventBody[]> {
  const rows: (Omit<AuditEventBody, 'createdAt'> & { createdAt: Date })[] = await t.dataSource.query(
    `SELECT id, org_id AS "orgId", actor_type AS "actorType", actor_id AS "actorId", action, entity_type AS "entityType",
            entity_id AS "entityId", changes, request_id AS "requestId", created_at AS "createdAt"
       FROM audit_events WHERE ${where} ORDER BY created_at DESC, id DESC`,
    parameters,
  );
  return rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }));
}

export async function auditCount(t: TestApp, orgId?: string): Promise<number> {
  const [row]: { n: number }[] = await t.dataSource.query(
    orgId
      ? 'SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1'
      : 'SELECT count(*)::int AS n FROM audit_events',
    orgId ? [orgId] : [],
  );
  return row.n;
}
