import { Injectable } from '@nestjs/common';
import { joinMembership } from '../access/membership-lookup';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { Task, TASK_PRIORITY_RANK, TaskPriority, TaskStatus } from './task.entity';

const COLUMNS = `t.id, t.project_id AS "projectId", t.org_id AS "orgId", t.project_key AS "projectKey", t.number,
  t.title, t.description, t.status, t.priority, t.assignee_id AS "assigneeId", to_char(t.due_date, 'YYYY-MM-DD') AS "dueDate",
  t.labels, t.created_by AS "createdBy", t.created_at AS "createdAt", t.updated_at AS "updatedAt", t.version`;

// The join on one line, as test/query-count.e2e-spec.ts reads it (a named statement is logged as JSON).
export const TASK_FOR_PRINCIPAL = `SELECT ${COLUMNS}, m.role FROM tasks t ${joinMembership('t.org_id', '$2')} WHERE t.id = $1`;

export const ROLE_ON_TASK = `SELECT t.org_id AS "orgId", m.role FROM tasks t ${joinMembership('t.org_id', '$2')} WHERE t.id = $1`;

/** Sort → column. */
export const TASK_SORT_COLUMNS = {
  createdAt: 't.created_at',
  updatedAt: 't.updated_at',
  dueDate: 't.due_date',
  priority: 't.priority_rank',
  number: 't.number',
} as const;

export type TaskWithRole = Task & { role: OrgRole };
export type TaskListScope = { projectId: string } | { orgId: string };

export interface TaskFilters {
  status?: TaskStatus[];
  priority?: TaskPriority[];
  /** A user id, or 'none' for unassigned. */
  assignee?: string;
  label?: string;
  q?: string;
  dueBefore?: string;
  dueAfter?: string;
}

export interface NewTask {
  projectId: string;
  orgId: string;
  projectKey: string;
  number: number;
  title: string;
  description: string;
  status: TaskStatus;
  priority: TaskPriority;
  assigneeId: string | null;
  dueDate: string | null;
  labels: string[];
  createdBy: string;
}

export type TaskChanges = Partial<
  Pick<Task, 'title' | 'description' | 'status' | 'priority' | 'assigneeId' | 'dueDate' | 'labels'>
>;

/** All SQL for the tasks table. Rows come back in the shape of Task (camelCase), no entity hydration. */
@Injectable()
export class TasksRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  /** The task and the principal's role in its org; none when either is missing. The hottest read. */
  async findForPrincipal(principal: Principal, taskId: string): Promise<TaskWithRole | undefined> {
    const [row] = await this.db.rows<TaskWithRole>({
      name: 'task_for_member',
      text: TASK_FOR_PRINCIPAL,
      planCached: 'SELECT * FROM task_for_principal($1, $2)',
      values: [taskId, principal.id],
    });
    return row;
  }

  /** The same, locked for the rest of the transaction (FOR UPDATE: to change or delete it). */
  async lockForPrincipal(tx: Transaction, principal: Principal, taskId: string): Promise<TaskWithRole | undefined> {
    const [row] = await tx.rows<TaskWithRole>({
      text: `${TASK_FOR_PRINCIPAL} FOR UPDATE OF t`,
      values: [taskId, principal.id],
    });
    return row;
  }

  /**
   * The org of a task and the principal's role in it, in one statement. With a transaction the
   * task is held (FOR KEY SHARE) until it ends, so that it cannot be deleted between this check
   * and a write that refers to it (a comment, an attachment).
   */
  async roleOnTask(
    principal: Principal,
    taskId: string,
    tx?: Transaction,
  ): Promise<{ orgId: string; role: OrgRole } | undefined> {
    const text = ROLE_ON_TASK;
    const values = [taskId, principal.id];
    const [row] = tx
      ? await tx.rows<{ orgId: string; role: OrgRole }>({ text: `${text} FOR KEY SHARE OF t`, values })
      : await this.db.rows<{ orgId: string; role: OrgRole }>({
          name: 'role_on_task',
          text,
          planCached: 'SELECT * FROM role_on_task($1, $2)',
          values,
        });
    return row;
  }

  async insert(tx: Transaction, task: NewTask): Promise<Task> {
    const [row] = await tx.rows<Task>({
      text: `INSERT INTO tasks AS t (project_id, org_id, project_key, number, title, description, status, priority,
                                     assignee_id, due_date, labels, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      values: [
        task.projectId,
        task.orgId,
        task.projectKey,
        task.number,
        task.title,
        task.description,
        task.status,
        task.priority,
        task.assigneeId,
        task.dueDate,
        task.labels,
        task.createdBy,
      ],
    });
    return row;
  }

  /** Sets the given fields, bumps the version; the task as it now is. */
  async update(tx: Transaction, taskId: string, changes: TaskChanges): Promise<Task> {
    await tx.manager
      .createQueryBuilder()
      .update(Task)
      .set({ ...changes, updatedAt: () => 'now()', version: () => 'version + 1' })
      .where('id = :taskId', { taskId })
      .execute();
    const [row] = await tx.rows<Task>({ text: `SELECT ${COLUMNS} FROM tasks t WHERE t.id = $1`, values: [taskId] });
    return row;
  }

  /** Its comments and attachments go with it (the attachments' files are queued by their trigger). */
  /** Whether this person may be the org's assignee: a member (people only — an API key is nobody's assignee). */
  async isAssignable(tx: Transaction, orgId: string, userId: string): Promise<boolean> {
    const rows = await tx.rows({
      text: 'SELECT 1 FROM memberships WHERE org_id = $1 AND user_id = $2',
      values: [orgId, userId],
    });
    return rows.length > 0;
  }

  async delete(tx: Transaction, taskId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM tasks WHERE id = $1', values: [taskId] });
  }

  /**
   * Filters combine with AND; a list filter matches any of its values. A list may lag: a replica
   * that has `readerId`'s writes may serve it.
   */
  list<Item>(
    readerId: string,
    scope: TaskListScope,
    filters: TaskFilters,
    page: KeysetPage<Task, Item>,
  ): Promise<Page<Item>> {
    const values: unknown[] = [];
    const bind = (value: unknown): string => `$${values.push(value)}`;
    const where = [
      'projectId' in scope ? `t.project_id = ${bind(scope.projectId)}` : `t.org_id = ${bind(scope.orgId)}`,
    ];
    if (filters.status) where.push(`t.status IN (${filters.status.map(bind).join(', ')})`);
    // On the rank (the same rows): then `sort=priority` reads its index from the first wanted rank on.
    if (filters.priority) {
      where.push(`t.priority_rank IN (${filters.priority.map((p) => bind(TASK_PRIORITY_RANK[p])).join(', ')})`);
    }
    if (filters.assignee === 'none') where.push('t.assignee_id IS NULL');
    else if (filters.assignee) where.push(`t.assignee_id = ${bind(filters.assignee)}`);
    if (filters.label) where.push(`t.labels @> ARRAY[${bind(filters.label)}]::text[]`);
    if (filters.q) where.push(`t.search @@ websearch_to_tsquery('simple', ${bind(filters.q)})`);
    if (filters.dueBefore) where.push(`t.due_date <= ${bind(filters.dueBefore)}`);
    if (filters.dueAfter) where.push(`t.due_date >= ${bind(filters.dueAfter)}`);
    return this.paginator.pageOfStatement(page, { select: `SELECT ${COLUMNS} FROM tasks t`, where, values }, (s) =>
      this.db.laggingRows<Task>(readerId, s),
    );
  }
}
