import { HttpStatus, Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { CursorPaginator, CursorPosition, KeysetPage, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';
import { poolRows } from '../database/pool-query';
import { UnitOfWork } from '../database/unit-of-work';
import { ProjectsService } from '../projects/projects.service';
import { CreateTaskDto, UpdateTaskDto } from './dto/task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { Task, TaskPriority } from './task.entity';
import { TaskResponse } from './task.response';
import { FileDeletionQueue } from '../storage/file-deletion.queue';

const AUDITED = ['title', 'description', 'status', 'priority', 'assigneeId', 'dueDate', 'labels'] as const;
const GONE = Object.fromEntries(AUDITED.map((f) => [f, null]));
const PRIORITY_RANK: Record<TaskPriority, number> = { low: 1, medium: 2, high: 3, urgent: 4 };

/** Sort → column, and how a row's position is written into the cursor. */
const SORTS: Record<string, { column: string; nullable?: boolean; position: (t: Task) => string | number | null }> = {
  createdAt: { column: 't.created_at', position: (t) => t.createdAt.toISOString() },
  updatedAt: { column: 't.updated_at', position: (t) => t.updatedAt.toISOString() },
  dueDate: { column: 't.due_date', nullable: true, position: (t) => t.dueDate },
  priority: { column: 't.priority_rank', position: (t) => PRIORITY_RANK[t.priority] },
  number: { column: 't.number', position: (t) => t.number },
};

const COLUMNS = `t.id, t.project_id AS "projectId", t.org_id AS "orgId", t.project_key AS "projectKey", t.number,
  t.title, t.description, t.status, t.priority, t.assignee_id AS "assigneeId", to_char(t.due_date, 'YYYY-MM-DD') AS "dueDate",
  t.labels, t.created_by AS "createdBy", t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;

// The join on one line, as test/query-count.e2e-spec.ts reads it (a named statement is logged as JSON).
const TASK_FOR_MEMBER = `SELECT ${COLUMNS}, m.role FROM tasks t JOIN memberships m ON m.org_id = t.org_id AND m.user_id = $2 WHERE t.id = $1`;

type TaskWithRole = Task & { role: OrgRole };
export type TaskListScope = { projectId: string } | { orgId: string };

@Injectable()
export class TasksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly projects: ProjectsService,
    private readonly audit: AuditService,
    private readonly paginator: CursorPaginator,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /**
   * Members and up. The project row is locked while its counter advances, so concurrent
   * creations get consecutive numbers, and a rolled-back creation gives its number back.
   */
  async create(actor: Actor, projectId: string, input: CreateTaskDto): Promise<TaskResponse> {
    return this.unitOfWork.run(actor, async (manager) => {
      const project = await this.projects.findForMember(manager, actor.userId, projectId, true);
      assertOrgRole(project.role, 'member', 'create tasks');
      if (project.archived) throw ApiException.conflict('The project is archived and takes no new tasks');
      if (input.assigneeId) await this.assertMember(manager, project.orgId, input.assigneeId);
      const [[{ task_seq: number }]]: [{ task_seq: number }[], number] = await manager.query(
        'UPDATE projects SET task_seq = task_seq + 1 WHERE id = $1 RETURNING task_seq',
        [projectId],
      );
      const [task]: Task[] = await manager.query(
        `INSERT INTO tasks AS t (project_id, org_id, project_key, number, title, description, status, priority,
                                 assignee_id, due_date, labels, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
        [
          projectId,
          project.orgId,
          project.key,
          number,
          input.title,
          input.description ?? '',
          input.status ?? 'todo',
          input.priority ?? 'medium',
          input.assigneeId ?? null,
          input.dueDate ?? null,
          input.labels ?? [],
          actor.userId,
        ],
      );
      await this.audit.record(manager, actor, {
        orgId: project.orgId,
        action: 'task.created',
        entityType: 'task',
        entityId: task.id,
        changes: diffChanges({}, task, AUDITED),
      });
      return TaskResponse.from(task);
    });
  }

  /** A project's tasks: the caller must be a member of its org (one query, then the list). */
  async listInProject(userId: string, projectId: string, query: ListTasksQuery): Promise<Page<TaskResponse>> {
    await this.projects.readForMember(userId, projectId);
    return this.list({ projectId }, userId, query);
  }

  /**
   * Filters combine with AND; a list filter matches any of its values. Plain SQL on the pool and
   * rows mapped by hand: the columns returned, no entities.
   */
  async list(scope: TaskListScope, userId: string, query: ListTasksQuery): Promise<Page<TaskResponse>> {
    const values: unknown[] = [];
    const bind = (value: unknown): string => `$${values.push(value)}`;
    const where = [
      'projectId' in scope ? `t.project_id = ${bind(scope.projectId)}` : `t.org_id = ${bind(scope.orgId)}`,
    ];
    if (query.status) where.push(`t.status IN (${query.status.map(bind).join(', ')})`);
    if (query.priority) where.push(`t.priority IN (${query.priority.map(bind).join(', ')})`);
    const assignee = query.assigneeId === 'me' ? userId : query.assigneeId?.toLowerCase();
    if (assignee === 'none') where.push('t.assignee_id IS NULL');
    else if (assignee) where.push(`t.assignee_id = ${bind(assignee)}`);
    if (query.label) where.push(`t.labels @> ARRAY[${bind(query.label)}]::text[]`);
    if (query.q) where.push(`t.search @@ websearch_to_tsquery('simple', ${bind(query.q)})`);
    if (query.dueBefore) where.push(`t.due_date <= ${bind(query.dueBefore)}`);
    if (query.dueAfter) where.push(`t.due_date >= ${bind(query.dueAfter)}`);

    const sort = SORTS[query.sort.replace('-', '')];
    const { limit, cursor, ...filters } = query;
    const page: KeysetPage<Task, TaskResponse> = {
      // The same filter set whatever the order its values were given in.
      scope: listScope('tasks', {
        ...scope,
        ...filters,
        status: filters.status && [...new Set(filters.status)].sort(),
        priority: filters.priority && [...new Set(filters.priority)].sort(),
        assigneeId: assignee,
      }),
      sortColumn: sort.column,
      nullable: sort.nullable,
      idColumn: 't.id',
      direction: query.sort.startsWith('-') ? 'DESC' : 'ASC',
      position: (t): CursorPosition => [sort.position(t), t.id],
      map: TaskResponse.from,
      limit,
      cursor,
    };
    const after = this.paginator.after(page, (_name, value) => bind(value));
    if (after) where.push(after);
    const rows = await poolRows<Task>(this.dataSource, {
      text: `SELECT ${COLUMNS} FROM tasks t WHERE ${where.join(' AND ')}
              ORDER BY ${this.paginator.orderBy(page)} LIMIT ${limit + 1}`,
      values,
    });
    return this.paginator.pageOf(rows, page);
  }

  /**
   * One statement: the task and the caller's role in its org; not a member → 404. The hottest
   * read: a named statement on the pool, parsed and planned once per connection.
   */
  async get(userId: string, taskId: string): Promise<TaskResponse> {
    const [row] = await poolRows<TaskWithRole>(this.dataSource, {
      name: 'task_for_member',
      text: TASK_FOR_MEMBER,
      values: [taskId, userId],
    });
    if (!row) throw ApiException.notFound('Task');
    return TaskResponse.from(row);
  }

  /** PUT and PATCH (members and up), If-Match checked under the row lock. */
  async update(
    actor: Actor,
    taskId: string,
    changes: UpdateTaskDto,
    expected: ExpectedVersions,
  ): Promise<TaskResponse> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, taskId, true);
      assertOrgRole(current.role, 'member', 'change tasks');
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      const audited = diffChanges(current, changes, AUDITED);
      if (Object.keys(audited).length === 0) return TaskResponse.from(current);
      if (changes.assigneeId && changes.assigneeId !== current.assigneeId) {
        await this.assertMember(manager, current.orgId, changes.assigneeId);
      }
      const set = Object.fromEntries(
        Object.keys(audited).map((field) => [field, changes[field as keyof UpdateTaskDto]]),
      ) as Partial<Task>;
      await manager
        .createQueryBuilder()
        .update(Task)
        .set({ ...set, updatedAt: () => 'now()', version: () => 'version + 1' })
        .where('id = :taskId', { taskId })
        .execute();
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'task.updated',
        entityType: 'task',
        entityId: taskId,
        changes: audited,
      });
      return TaskResponse.from(await this.findForMember(manager, actor.userId, taskId));
    });
  }

  async delete(actor: Actor, taskId: string, expected: ExpectedVersions): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, taskId, true);
      assertOrgRole(current.role, 'member', 'delete tasks');
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      await manager.query('DELETE FROM tasks WHERE id = $1', [taskId]);
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'task.deleted',
        entityType: 'task',
        entityId: taskId,
        changes: diffChanges(current, GONE, AUDITED),
      });
    });
    // Its attachments went with it; their files were queued in the transaction.
    await this.fileDeletions.drain();
  }

  private async findForMember(
    manager: EntityManager,
    userId: string,
    taskId: string,
    lock = false,
  ): Promise<TaskWithRole> {
    const [row]: TaskWithRole[] = await manager.query(`${TASK_FOR_MEMBER}${lock ? ' FOR UPDATE OF t' : ''}`, [
      taskId,
      userId,
    ]);
    if (!row) throw ApiException.notFound('Task');
    return row;
  }

  /** The assignee must belong to the task's org. */
  private async assertMember(manager: EntityManager, orgId: string, userId: string): Promise<void> {
    const [row] = await manager.query('SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2', [orgId, userId]);
    if (!row) {
      throw new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: 'assigneeId', message: 'assigneeId must be a member of the organization' },
      ]);
    }
  }
}
