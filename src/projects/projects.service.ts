import { Injectable } from '@nestjs/common';
import { Action, requireAccess } from '../access/access-policy';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { isUniqueViolation } from '../database/database-errors';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { CreateProjectDto, ListProjectsQuery, UpdateProjectDto } from './dto/project.dto';
import { ProjectResponse } from './project.response';
import { ProjectsRepository, ProjectWithRole, TaskNumber } from './projects.repository';

const SORT_COLUMNS = { createdAt: 'p.created_at', name: 'p.name', key: 'p.key' } as const;
const AUDITED = ['key', 'name', 'description', 'archived'] as const;
const GONE = { key: null, name: null, description: null, archived: null };

@Injectable()
export class ProjectsService {
  constructor(
    private readonly projects: ProjectsRepository,
    private readonly audit: AuditService,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Admin+, as @OrgAccess('project.create') checked. */
  async create(actor: Actor, orgId: string, input: CreateProjectDto): Promise<ProjectResponse> {
    try {
      return await this.unitOfWork.run(async (tx) => {
        const project = await this.projects.insert(tx, orgId, { ...input, description: input.description ?? '' });
        const response = ProjectResponse.from(project);
        await this.audit.record(tx, actor, {
          orgId,
          action: 'project.created',
          entityType: 'project',
          entityId: project.id,
          changes: diffChanges({}, project, AUDITED),
          data: response,
        });
        return response;
      }, actor);
    } catch (error) {
      if (isUniqueViolation(error, 'projects_org_key_key')) {
        throw ApiException.conflict('A project with this key already exists in the organization');
      }
      throw error;
    }
  }

  list(reader: Principal, orgId: string, query: ListProjectsQuery): Promise<Page<ProjectResponse>> {
    const field = query.sort.replace('-', '') as keyof typeof SORT_COLUMNS;
    const archived = query.archived === undefined ? undefined : query.archived === 'true';
    return this.projects.list(reader.id, orgId, archived, {
      scope: listScope('projects', { orgId, archived: query.archived, sort: query.sort }),
      sortColumn: SORT_COLUMNS[field],
      idColumn: 'p.id',
      direction: query.sort.startsWith('-') ? 'DESC' : 'ASC',
      position: (p) => [field === 'createdAt' ? p.createdAt.toISOString() : p[field], p.id],
      map: ProjectResponse.from,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  async get(principal: Principal, projectId: string): Promise<ProjectResponse> {
    return ProjectResponse.from(await this.readable(principal, projectId, 'project.read'));
  }

  /**
   * The project, for a principal allowed `action` on it (not a member → 404; too weak a role →
   * 403). Outside any transaction: GET, and the check before a task list or creation.
   */
  async readable(principal: Principal, projectId: string, action: Action): Promise<ProjectWithRole> {
    const project = await this.projects.findForPrincipal(principal, projectId);
    if (!project) throw ApiException.notFound('Project');
    requireAccess(principal, action, project);
    return project;
  }

  /** PUT and PATCH (admin+), with If-Match checked under the row lock. */
  async update(
    actor: Actor,
    projectId: string,
    changes: UpdateProjectDto,
    expected: ExpectedVersions,
  ): Promise<ProjectResponse> {
    return this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, projectId, 'project.update', expected);
      const audited = diffChanges(current, changes, AUDITED);
      if (Object.keys(audited).length === 0) return ProjectResponse.from(current);
      const response = ProjectResponse.from(await this.projects.update(tx, projectId, changes));
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'project.updated',
        entityType: 'project',
        entityId: projectId,
        changes: audited,
        data: response,
      });
      return response;
    });
  }

  /** Admin+; its tasks go with it, and their attachments' files once the deletion commits. */
  async delete(actor: Actor, projectId: string, expected: ExpectedVersions): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, projectId, 'project.delete', expected);
      await this.projects.delete(tx, projectId);
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'project.deleted',
        entityType: 'project',
        entityId: projectId,
        changes: diffChanges(current, GONE, AUDITED),
        data: ProjectResponse.from(current),
      });
      this.fileDeletions.drainAfter(tx);
    });
  }

  /**
   * For a new task: the project's next number, taken under the project's row lock in `tx`,
   * for a principal allowed to create tasks in a project that takes them.
   */
  async takeTaskNumber(tx: Transaction, principal: Principal, projectId: string): Promise<TaskNumber> {
    const project = await this.projects.takeTaskNumber(tx, principal, projectId);
    if (!project) throw ApiException.notFound('Project');
    requireAccess(principal, 'task.create', project);
    if (project.archived) throw ApiException.conflict('The project is archived and takes no new tasks');
    return project;
  }

  private async lockForChange(
    tx: Transaction,
    principal: Principal,
    projectId: string,
    action: 'project.update' | 'project.delete',
    expected: ExpectedVersions,
  ): Promise<ProjectWithRole> {
    const current = await this.projects.lockForPrincipal(tx, principal, projectId);
    if (!current) throw ApiException.notFound('Project');
    requireAccess(principal, action, current);
    if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
    return current;
  }
}
