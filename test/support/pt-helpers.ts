import type { Response } from 'supertest';
import type { TestApp } from './test-app';
import { bearer, registerUser, SignedInUser } from './users';

// Helpers shared by test/projects.e2e-spec.ts and test/tasks.e2e-spec.ts.

export const ROLES = ['owner', 'admin', 'member', 'viewer', 'outsider'] as const;
export type Caller = (typeof ROLES)[number];
export type MemberRole = Exclude<Caller, 'outsider'>;

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export const PROJECT_KEYS = [
  'archived',
  'createdAt',
  'description',
  'id',
  'key',
  'name',
  'orgId',
  'updatedAt',
  'version',
];
export const TASK_KEYS = [
  'assigneeId',
  'createdAt',
  'createdBy',
  'description',
  'dueDate',
  'id',
  'key',
  'labels',
  'number',
  'priority',
  'projectId',
  'status',
  'title',
  'updatedAt',
  'version',
];

export interface ProjectBody {
  id: string;
  orgId: string;
  key: string;
  name: string;
  description: string;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface TaskBody {
  id: string;
  projectId: string;
  number: number;
  key: string;
  title: string;
  description: string;
  status: string;
  priority: string;
  assigneeId: string | null;
  dueDate: string | null;
  labels: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface AuditEventBody {
  id: string;
  orgId: string;
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  changes: Record<string, [unknown, unknown]>;
  requestId: string | null;
  createdAt: string;
}

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details?: { field: string; message: string }[];
  requestId: string;
}

/** Status first, with the body in the failure message. */
export function expectStatus(res: Response, status: number): void {
  expect({ status: res.status, body: res.body }).toMatchObject({ status });
}

function expectJsonWithRequestId(res: Response): string {
  expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
  const requestId = res.headers['x-request-id'];
  expect(typeof requestId).toBe('string');
  return requestId as string;
}

/** A success envelope with a single resource: returns `data`. */
export function expectData<T>(res: Response, status = 200): T {
  expectStatus(res, status);
  const requestId = expectJsonWithRequestId(res);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'meta']);
  expect(res.body.meta).toEqual({ requestId });
  return res.body.data as T;
}

/** A success envelope with a list: returns `data`. */
export function expectList<T>(res: Response): T[] {
  expectStatus(res, 200);
  const requestId = expectJsonWithRequestId(res);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'meta']);
  expect(Array.isArray(res.body.data)).toBe(true);
  expect(res.body.meta.requestId).toBe(requestId);
  expect(Object.keys(res.body.meta.page).sort()).toEqual(['limit', 'nextCursor']);
  return res.body.data as T[];
}

/** The error envelope with this status and code: returns `error`. */
export function expectError(res: Response, status: number, code: string): ErrorBody {
  expectStatus(res, status);
  const requestId = expectJsonWithRequestId(res);
  expect(Object.keys(res.body)).toEqual(['error']);
  expect(res.body.error).toMatchObject({ status, code, message: expect.any(String), requestId });
  const allowed = ['code', 'details', 'message', 'requestId', 'status'];
  expect(Object.keys(res.body.error).filter((key) => !allowed.includes(key))).toEqual([]);
  return res.body.error as ErrorBody;
}

/** A 400 VALIDATION_FAILED whose details name exactly these fields. */
export function expectValidationFailed(res: Response, fields: string[]): ErrorBody {
  const error = expectError(res, 400, 'VALIDATION_FAILED');
  expect(error.details).toBeDefined();
  for (const detail of error.details!)
    expect(detail).toEqual({ field: expect.any(String), message: expect.any(String) });
  expect([...new Set(error.details!.map((d) => d.field))].sort()).toEqual([...fields].sort());
  return error;
}

/** 204: no body at all. */
export function expectNoContent(res: Response): void {
  expectStatus(res, 204);
  expect(res.text ?? '').toBe('');
  expect(res.headers['content-type']).toBeUndefined();
}

export const etag = (version: number): string => `"${version}"`;

/** An org with one signed-in user per role, and a signed-in user who is not a member. */
export interface RoleOrg {
  orgId: string;
  users: Record<Caller, SignedInUser>;
}

export async function createOrg(t: TestApp, owner: SignedInUser, name = 'Test Org'): Promise<string> {
  const res = await t.http().post('/api/v1/orgs').set(bearer(owner.accessToken)).send({ name });
  return expectData<{ id: string }>(res, 201).id;
}

export async function addMember(
  t: TestApp,
  orgId: string,
  by: SignedInUser,
  user: SignedInUser,
  role: MemberRole,
): Promise<void> {
  const res = await t
    .http()
    .post(`/api/v1/orgs/${orgId}/members`)
    .set(bearer(by.accessToken))
    .send({ email: user.email, role });
  expectStatus(res, 201);
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
    .get(`/api/v1/orgs/${orgId}/audit-events`)
    .query({ limit: '100', ...query })
    .set(bearer(reader.accessToken));
  return expectList<AuditEventBody>(res);
}
