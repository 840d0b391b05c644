// The resources of the API as the tests read them from response bodies, each with its keys in
// sorted order (what `Object.keys(body).sort()` must equal).

export interface ErrorBody {
  status: number;
  code: string;
  message: string;
  details?: { field: string; message: string }[];
  requestId: string;
}

export const USER_KEYS = ['avatarUrl', 'createdAt', 'email', 'id', 'name', 'role', 'updatedAt', 'version'];

export interface UserBody {
  id: string;
  email: string;
  name: string;
  role: 'user' | 'admin';
  avatarUrl: string | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type OrgRole = 'owner' | 'admin' | 'member' | 'viewer';

export const ORG_KEYS = ['createdAt', 'id', 'name', 'slug', 'updatedAt', 'version'];

export interface OrgBody {
  id: string;
  name: string;
  slug: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export const MEMBER_KEYS = ['createdAt', 'orgId', 'role', 'updatedAt', 'user', 'userId'];

export interface MemberBody {
  userId: string;
  orgId: string;
  role: OrgRole;
  user: { id: string; email: string; name: string };
  createdAt: string;
  updatedAt: string;
}

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

export const AUDIT_KEYS = [
  'action',
  'actorId',
  'actorType',
  'changes',
  'createdAt',
  'entityId',
  'entityType',
  'id',
  'orgId',
  'requestId',
];

export interface AuditEventBody {
  id: string;
  orgId: string;
  actorType: 'user' | 'apiKey';
  actorId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  changes: Record<string, [unknown, unknown]>;
  requestId: string | null;
  createdAt: string;
}
