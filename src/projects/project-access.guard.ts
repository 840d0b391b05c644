import { Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Action } from '../access/access-policy';
import { RouteAccess, RouteAccessGuard } from '../access/route-access.guard';
import type { Principal } from '../common/auth/auth-user';
import { ProjectsService } from './projects.service';

/** Routes under /projects/{projectId}/… (creating a task): the caller's role in the project's org. */
@Injectable()
export class ProjectAccessGuard extends RouteAccessGuard {
  protected readonly parameter = 'projectId';

  constructor(
    reflector: Reflector,
    private readonly projects: ProjectsService,
  ) {
    super(reflector);
  }

  protected async authorize(principal: Principal, projectId: string, action: Action): Promise<void> {
    await this.projects.readable(principal, projectId, action);
  }
}

/** `/projects/{projectId}/…` routes: a member of the project's org allowed `action`. */
export const ProjectAccess = (action: Action): MethodDecorator => RouteAccess(ProjectAccessGuard, action);
