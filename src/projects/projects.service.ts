import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor } from '../common/auth/auth-user';
import { poolRows } from '../database/pool-query';
import { UnitOfWork } from '../database/unit-of-work';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';
import { isUniqueViolation } from '../database/database-errors';
import { CreateProjectDto, ListProjectsQuery, UpdateProjectDto } from './dto/project.dto';
import { Project } from './project.entity';
import { ProjectResponse } from './project.response';
import { FileDeletionQueue } from '../storage/file-deletion.queue';

const SORT_COLUMNS = { createdAt: 'p.created_at', name: 'p.name', key: 'p.key' } as const;
const AUDITED = ['key', 'name', 'description', 'archived'] as const;
const COLUMNS = `p.id, p.org_id AS "orgId", p.key, p.name, p.description, p.archived,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.version`;

const PROJECT_FOR_MEMBER = `SELECT ${COLUMNS}, m.role FROM projects p
  JOIN memberships m ON m.org_id = p.org_id AND m.user_id = $2 WHERE p.id = $1`;

export type ProjectWithRole = Project & { role: OrgRole };

@Injectable()
export class ProjectsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly paginator: CursorPaginator,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async create(actor: Actor, orgId: string, input: CreateProjectDto): Promise<ProjectResponse> {
    try {
      return await this.unitOfWork.run(actor, async (manager) => {
        const [project]: Project[] = await manager.query(
          `INSERT INTO projects (org_id, key, name, description) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS.replace(/p\./g, '')}`,
          [orgId, input.key, input.name, input.description ?? ''],
        );
        await this.audit.record(manager, actor, {
          orgId,
          action: 'project.created',
          entityType: 'project',
          entityId: project.id,
          changes: diffChanges({}, project, AUDITED),
        });
        return ProjectResponse.from(project);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'projects_org_key_key')) {
        throw ApiException.conflict('A project with this key already exists in the organization');
      }
      throw error;
    }
  }

  list(orgId: string, query: ListProjectsQuery): Promise<Page<ProjectResponse>> {
    const qb = this.dataSource.createQueryBuilder(Project, 'p').where('p.org_id = :orgId', { orgId });
    if (query.archived) qb.andWhere('p.archived = :archived', { archived: query.archived === 'true' });
    const field = query.sort.replace('-', '') as keyof typeof SORT_COLUMNS;
    return this.paginator.paginate(qb, {
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

  async get(userId: string, projectId: string): Promise<ProjectResponse> {
    return ProjectResponse.from(await this.readForMember(userId, projectId));
  }

  /** PUT and PATCH (admin+), with If-Match checked under the row lock. */
  async update(
    actor: Actor,
    projectId: string,
    changes: UpdateProjectDto,
    expected: ExpectedVersions,
  ): Promise<ProjectResponse> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, projectId, true);
      assertOrgRole(current.role, 'admin', 'change projects');
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      const audited = diffChanges(current, changes, AUDITED);
      if (Object.keys(audited).length === 0) return ProjectResponse.from(current);
      const [[updated]]: [Project[], number] = await manager.query(
        `UPDATE projects p SET name = COALESCE($2, name), description = COALESCE($3, description),
                archived = COALESCE($4, archived), updated_at = now(), version = version + 1
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [projectId, changes.name ?? null, changes.description ?? null, changes.archived ?? null],
      );
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'project.updated',
        entityType: 'project',
        entityId: projectId,
        changes: audited,
      });
      return ProjectResponse.from(updated);
    });
  }

  /** Admin+; its tasks go with it. */
  async delete(actor: Actor, projectId: string, expected: ExpectedVersions): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, projectId, true);
      assertOrgRole(current.role, 'admin', 'delete projects');
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      await manager.query('DELETE FROM projects WHERE id = $1', [projectId]);
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'project.deleted',
        entityType: 'project',
        entityId: projectId,
        changes: diffChanges(current, { key: null, name: null, description: null, archived: null }, AUDITED),
      });
    });
    // The attachments of its tasks went with it; their files were queued in the transaction.
    await this.fileDeletions.drain();
  }

  /**
   * The project and the caller's role in its org, in one statement; not a member → 404.
   * `lock` takes the project row for the rest of the transaction.
   */
  async findForMember(
    manager: EntityManager,
    userId: string,
    projectId: string,
    lock = false,
  ): Promise<ProjectWithRole> {
    const [row]: ProjectWithRole[] = await manager.query(`${PROJECT_FOR_MEMBER}${lock ? ' FOR UPDATE OF p' : ''}`, [
      projectId,
      userId,
    ]);
    if (!row) throw ApiException.notFound('Project');
    return row;
  }

  /**
   * The same read outside any transaction (GET, the membership check of task lists): a named
   * statement on the pool, parsed and planned once per connection.
   */
  async readForMember(userId: string, projectId: string): Promise<ProjectWithRole> {
    const [row] = await poolRows<ProjectWithRole>(this.dataSource, {
      name: 'project_for_member',
      text: PROJECT_FOR_MEMBER,
      values: [projectId, userId],
    });
    if (!row) throw ApiException.notFound('Project');
    return row;
  }
}
