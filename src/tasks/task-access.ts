import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { DataSource, EntityManager } from 'typeorm';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { notAUuid, UUID_PATTERN } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';

export interface TaskMembership {
  orgId: string;
  role: OrgRole;
}

/**
 * The org of a task and the caller's role in it, in one statement; no such task, or not a
 * member → 404. `lock` holds the task (FOR KEY SHARE) until the transaction ends, so that it
 * cannot be deleted between this check and a write that refers to it.
 */
export async function findTaskMembership(
  manager: EntityManager,
  userId: string,
  taskId: string,
  lock = false,
): Promise<TaskMembership> {
  const [row]: TaskMembership[] = await manager.query(
    `SELECT t.org_id AS "orgId", m.role FROM tasks t
       JOIN memberships m ON m.org_id = t.org_id AND m.user_id = $2
      WHERE t.id = $1 ${lock ? 'FOR KEY SHARE OF t' : ''}`,
    [taskId, userId],
  );
  if (!row) throw ApiException.notFound('Task');
  return row;
}

const MINIMUM_ROLE = 'tasklane:minimumTaskRole';

/**
 * For routes under /tasks/{taskId}: a UUID, and membership of the task's org with at least the
 * given role, checked before interceptors run, so that an upload is refused before its bytes are read and
 * an Idempotency-Key replay never reaches someone who has lost access since. Services check
 * again inside their transactions.
 */
@Injectable()
export class TaskAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly dataSource: DataSource,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { minimum, action } = this.reflector.get<{ minimum: OrgRole; action: string }>(
      MINIMUM_ROLE,
      context.getHandler(),
    );
    const req = context.switchToHttp().getRequest<AuthenticatedRequest & { params: Record<string, string> }>();
    const taskId = req.params.taskId;
    // Here rather than in the route's UuidParam: pipes run after interceptors, and the upload
    // interceptor would read the whole body first.
    if (!UUID_PATTERN.test(taskId)) throw notAUuid('taskId');
    const membership = await findTaskMembership(this.dataSource.manager, req.user!.id, taskId.toLowerCase());
    assertOrgRole(membership.role, minimum, action);
    return true;
  }
}

/** `/tasks/{taskId}/…` routes: membership with at least `minimum` in the task's org (else 403 naming `action`). */
export const TaskAccess = (minimum: OrgRole, action: string): MethodDecorator =>
  applyDecorators(SetMetadata(MINIMUM_ROLE, { minimum, action }), UseGuards(TaskAccessGuard), ApiErrors(403, 404));
