import { Injectable } from '@nestjs/common';
import { Action, requireAccess } from '../access/access-policy';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { CursorPosition, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { ProjectsService } from '../projects/projects.service';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { CreateTaskDto, UpdateTaskDto } from './dto/task.dto';
import { ListTasksQuery } from './dto/list-tasks.query';
import { Task, TASK_PRIORITY_RANK } from './task.entity';
import { TaskResponse } from './task.response';
import { TASK_SORT_COLUMNS, TaskChanges, TaskListScope, TasksRepository, TaskWithRole } from './tasks.repository';

const AUDITED = ['title', 'description', 'status', 'priority', 'assigneeId', 'dueDate', 'labels'] as const;
const GONE = Object.fromEntries(AUDITED.map((f) => [f, null]));

/** How a row's position under each sort is written into the cursor. */
const POSITIONS: Record<keyof typeof TASK_SORT_COLUMNS, (t: Task) => string | number | null> = {
  createdAt: (t) => t.createdAt.toISOString(),
  updatedAt: (t) => t.updatedAt.toISOString(),
  dueDate: (t) => t.dueDate,
  priority: (t) => TASK_PRIORITY_RANK[t.priority],
  number: (t) => t.number,
};

@Injectable()
export class TasksService {
  constructor(
    private readonly tasks: TasksRepository,
    private readonly projects: ProjectsService,
    private readonly audit: AuditService,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Members and up; the number is taken under the project's row lock (no gaps, no duplicates). */
  async create(actor: Actor, projectId: string, input: CreateTaskDto): Promise<TaskResponse> {
    return this.unitOfWork.run(async (tx) => {
      const project = await this.projects.takeTaskNumber(tx, actor, projectId);
      if (input.assigneeId) await this.assertMember(tx, project.orgId, input.assigneeId);
      const task = await this.tasks.insert(tx, {
        projectId,
        orgId: project.orgId,
        projectKey: project.key,
        number: project.number,
        title: input.title,
        description: input.description ?? '',
        status: input.status ?? 'todo',
        priority: input.priority ?? 'medium',
        assigneeId: input.assigneeId ?? null,
        dueDate: input.dueDate ?? null,
        labels: input.labels ?? [],
        createdBy: actor.id,
      });
      const response = TaskResponse.from(task);
      await this.audit.record(tx, actor, {
        orgId: project.orgId,
        action: 'task.created',
        entityType: 'task',
        entityId: task.id,
        changes: diffChanges({}, task, AUDITED),
        data: response,
      });
      return response;
    }, actor);
  }

  /** A project's tasks: the caller must be a member of its org (one query, then the list). */
  async listInProject(principal: Principal, projectId: string, query: ListTasksQuery): Promise<Page<TaskResponse>> {
    await this.projects.readable(principal, projectId, 'task.read');
    return this.list({ projectId }, principal, query);
  }

  /** Filters combine with AND; a list filter matches any of its values. */
  list(scope: TaskListScope, principal: Principal, query: ListTasksQuery): Promise<Page<TaskResponse>> {
    const assignee = query.assigneeId === 'me' ? principal.id : query.assigneeId?.toLowerCase();
    const field = query.sort.replace('-', '') as keyof typeof TASK_SORT_COLUMNS;
    const { limit, cursor, ...filters } = query;
    const position = POSITIONS[field];
    return this.tasks.list(
      principal.id,
      scope,
      { ...filters, assignee },
      {
        // The same filter set whatever the order its values were given in.
        scope: listScope('tasks', {
          ...scope,
          ...filters,
          status: filters.status && [...new Set(filters.status)].sort(),
          priority: filters.priority && [...new Set(filters.priority)].sort(),
          assigneeId: assignee,
        }),
        sortColumn: TASK_SORT_COLUMNS[field],
        nullable: field === 'dueDate',
        idColumn: 't.id',
        direction: query.sort.startsWith('-') ? 'DESC' : 'ASC',
        position: (t): CursorPosition => [position(t), t.id],
        map: TaskResponse.from,
        limit,
        cursor,
      },
    );
  }

  /** One statement: the task and the caller's role in its org; not a member → 404. */
  async get(principal: Principal, taskId: string): Promise<TaskResponse> {
    const task = await this.tasks.findForPrincipal(principal, taskId);
    if (!task) throw ApiException.notFound('Task');
    requireAccess(principal, 'task.read', task);
    return TaskResponse.from(task);
  }

  /**
   * The org of a task and the principal's role in it, for a principal allowed `action` there
   * (not a member → 404; too weak a role → 403). With `tx`, the task is held until it ends, so
   * that it cannot be deleted under a comment or attachment being added to it.
   */
  async authorize(
    principal: Principal,
    taskId: string,
    action: Action,
    tx?: Transaction,
  ): Promise<{ orgId: string; role: OrgRole }> {
    const found = await this.tasks.roleOnTask(principal, taskId, tx);
    if (!found) throw ApiException.notFound('Task');
    requireAccess(principal, action, found);
    return found;
  }

  /** PUT and PATCH (members and up), If-Match checked under the row lock. */
  async update(
    actor: Actor,
    taskId: string,
    changes: UpdateTaskDto,
    expected: ExpectedVersions,
  ): Promise<TaskResponse> {
    return this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, taskId, 'task.update', expected);
      const audited = diffChanges(current, changes, AUDITED);
      if (Object.keys(audited).length === 0) return TaskResponse.from(current);
      if (changes.assigneeId && changes.assigneeId !== current.assigneeId) {
        await this.assertMember(tx, current.orgId, changes.assigneeId);
      }
      const set = Object.fromEntries(
        Object.keys(audited).map((field) => [field, changes[field as keyof UpdateTaskDto]]),
      ) as TaskChanges;
      const response = TaskResponse.from(await this.tasks.update(tx, taskId, set));
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'task.updated',
        entityType: 'task',
        entityId: taskId,
        changes: audited,
        data: response,
      });
      return response;
    });
  }

  /** Members and up; its attachments' files are removed once the deletion commits. */
  async delete(actor: Actor, taskId: string, expected: ExpectedVersions): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, taskId, 'task.delete', expected);
      await this.tasks.delete(tx, taskId);
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'task.deleted',
        entityType: 'task',
        entityId: taskId,
        changes: diffChanges(current, GONE, AUDITED),
        data: TaskResponse.from(current),
      });
      this.fileDeletions.drainAfter(tx);
    });
  }

  private async lockForChange(
    tx: Transaction,
    principal: Principal,
    taskId: string,
    action: 'task.update' | 'task.delete',
    expected: ExpectedVersions,
  ): Promise<TaskWithRole> {
    const current = await this.tasks.lockForPrincipal(tx, principal, taskId);
    if (!current) throw ApiException.notFound('Task');
    requireAccess(principal, action, current);
    if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
    return current;
  }

  /** The assignee must be a person who belongs to the task's org. */
  private async assertMember(tx: Transaction, orgId: string, userId: string): Promise<void> {
    if (await this.tasks.isAssignable(tx, orgId, userId)) return;
    throw ApiException.invalidField('assigneeId', 'assigneeId must be a member of the organization');
  }
}
