import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { AuthenticatedRequest } from '../common/auth/auth-user';
import { assertOrgRole } from '../common/tenancy/org-role';
import { ProjectsService } from '../projects/projects.service';
import { UUID_PATTERN } from '../common/http/uuid-param';

/**
 * Creating a task in /projects/{projectId}/tasks needs `member` or stronger in the project's org
 * (not a member → 404, viewer → 403), checked before interceptors run, so that an
 * Idempotency-Key replay never hands a response to someone who has lost access since. Requests
 * without a key skip it: the service checks under the project's row lock anyway.
 */
@Injectable()
export class TaskWriterGuard implements CanActivate {
  constructor(private readonly projects: ProjectsService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context
      .switchToHttp()
      .getRequest<AuthenticatedRequest & { params: Record<string, string>; headers: Record<string, unknown> }>();
    // Without a key there is nothing to replay, and the service checks under the row lock.
    if (req.headers['idempotency-key'] === undefined) return true;
    const projectId = req.params.projectId;
    // A malformed id is left to the route's UuidParam (400 naming projectId).
    if (!UUID_PATTERN.test(projectId)) return true;
    const project = await this.projects.readForMember(req.user!.id, projectId.toLowerCase());
    assertOrgRole(project.role, 'member', 'create tasks');
    return true;
  }
}
