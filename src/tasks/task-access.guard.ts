import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Action } from '../access/access-policy';
import { RouteAccess, RouteAccessGuard } from '../access/route-access.guard';
import type { Principal } from '../common/auth/auth-user';
import { TasksService } from './tasks.service';

/** Routes under /tasks/{taskId}/… (comments, attachments): the caller's role in the task's org. */
@Injectable()
export class TaskAccessGuard extends RouteAccessGuard {
  protected readonly parameter = 'taskId';

  constructor(
    reflector: Reflector,
    private readonly tasks: TasksService,
  ) {
    super(reflector);
  }

  protected async authorize(principal: Principal, taskId: string, action: Action): Promise<void> {
    await this.tasks.authorize(principal, taskId, action);
  }
}

/** `/tasks/{taskId}/…` routes: a member of the task's org allowed `action` (else 404 or 403). */
export const TaskAccess = (action: Action): MethodDecorator => RouteAccess(TaskAccessGuard, action);
