import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Action } from '../access/access-policy';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { notAUuid, UUID_PATTERN } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import { TasksService } from './tasks.service';

const TASK_ACTION = 'tasklane:taskAction';

/**
 * For routes under /tasks/{taskId}/…: a UUID, and a member of the task's org allowed the
 * route's action, checked before interceptors run, so that an upload is refused before its
 * bytes are read and an Idempotency-Key replay never reaches someone who has lost access since.
 * Services check again inside their transactions.
 */
@Injectable()
export class TaskAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly tasks: TasksService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const action = this.reflector.get<Action>(TASK_ACTION, context.getHandler());
    const req = context.switchToHttp().getRequest<AuthenticatedRequest & { params: Record<string, string> }>();
    // Here rather than in the route's UuidParam: pipes run after interceptors, and the upload
    // interceptor would read the whole body first.
    if (!UUID_PATTERN.test(req.params.taskId)) throw notAUuid('taskId');
    await this.tasks.authorize({ kind: 'user', id: req.user!.id }, req.params.taskId.toLowerCase(), action);
    return true;
  }
}

/** `/tasks/{taskId}/…` routes: a member of the task's org allowed `action` (else 404 or 403). */
export const TaskAccess = (action: Action): MethodDecorator =>
  applyDecorators(SetMetadata(TASK_ACTION, action), UseGuards(TaskAccessGuard), ApiErrors(403, 404));
