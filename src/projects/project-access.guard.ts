import { applyDecorators, CanActivate, ExecutionContext, Injectable, SetMetadata, UseGuards } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { notAUuid, UUID_PATTERN } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import { ProjectsService } from './projects.service';

const PROJECT_ACTION = 'tasklane:projectAction';
type ProjectAction = 'task.create';

/**
 * For routes under /projects/{projectId}/… that change something: the caller may do the
 * route's action in the project's org (not a member → 404, too weak a role → 403), checked
 * before interceptors run, so that an Idempotency-Key replay never hands a response to someone
 * who has lost access since. The service checks again under the project's row lock.
 */
@Injectable()
export class ProjectAccessGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly projects: ProjectsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const action = this.reflector.get<ProjectAction>(PROJECT_ACTION, context.getHandler());
    const req = context.switchToHttp().getRequest<AuthenticatedRequest & { params: Record<string, string> }>();
    if (!UUID_PATTERN.test(req.params.projectId)) throw notAUuid('projectId');
    await this.projects.readable({ kind: 'user', id: req.user!.id }, req.params.projectId.toLowerCase(), action);
    return true;
  }
}

/** `/projects/{projectId}/…` routes: a member of the project's org allowed `action`. */
export const ProjectAccess = (action: ProjectAction): MethodDecorator =>
  applyDecorators(SetMetadata(PROJECT_ACTION, action), UseGuards(ProjectAccessGuard), ApiErrors(403, 404));
