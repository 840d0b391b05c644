import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { joinMembership, membershipOf } from '../access/membership-lookup';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { Project } from './project.entity';

const COLUMNS = `p.id, p.org_id AS "orgId", p.key, p.name, p.description, p.archived,
  p.created_at AS "createdAt", p.updated_at AS "updatedAt", p.version`;
export const PROJECT_FOR_PRINCIPAL = `SELECT ${COLUMNS}, m.role FROM projects p ${joinMembership('p.org_id', '$2')} WHERE p.id = $1`;

export type ProjectWithRole = Project & { role: OrgRole };
export type ProjectChanges = Partial<Pick<Project, 'name' | 'description' | 'archived'>>;

/** The project a new task goes into, with its next number taken. */
export interface TaskNumber {
  orgId: string;
  key: string;
  archived: boolean;
  role: OrgRole;
  number: number;
}

/** All SQL for the projects table. */
@Injectable()
export class ProjectsRepository {
  constructor(
    @InjectRepository(Project) private readonly projects: Repository<Project>,
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  async insert(tx: Transaction, orgId: string, input: Pick<Project, 'key' | 'name' | 'description'>): Promise<Project> {
    const [row] = await tx.rows<Project>({
      text: `INSERT INTO projects AS p (org_id, key, name, description) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      values: [orgId, input.key, input.name, input.description],
    });
    return row;
  }

  /** A list may lag: a replica that has `readerId`'s writes may serve it. */
  list<Item>(
    readerId: string,
    orgId: string,
    archived: boolean | undefined,
    page: KeysetPage<Project, Item>,
  ): Promise<Page<Item>> {
    const where = ['p.org_id = $1'];
    const values: unknown[] = [orgId];
    if (archived !== undefined) where.push(`p.archived = $${values.push(archived)}`);
    return this.paginator.pageOfStatement(page, { select: `SELECT ${COLUMNS} FROM projects p`, where, values }, (s) =>
      this.db.laggingRows<Project>(readerId, s),
    );
  }

  /** The project and the principal's role in its org, in one statement; none when either is missing. */
  async findForPrincipal(principal: Principal, projectId: string): Promise<ProjectWithRole | undefined> {
    const [row] = await this.db.rows<ProjectWithRole>({
      name: 'project_for_member',
      text: PROJECT_FOR_PRINCIPAL,
      planCached: 'SELECT * FROM project_for_principal($1, $2)',
      values: [projectId, principal.id],
    });
    return row;
  }

  /** The same, the project locked for the rest of the transaction. */
  async lockForPrincipal(
    tx: Transaction,
    principal: Principal,
    projectId: string,
  ): Promise<ProjectWithRole | undefined> {
    const [row] = await tx.rows<ProjectWithRole>({
      text: `${PROJECT_FOR_PRINCIPAL} FOR UPDATE OF p`,
      values: [projectId, principal.id],
    });
    return row;
  }

  async update(tx: Transaction, projectId: string, changes: ProjectChanges): Promise<Project> {
    const [row] = await tx.rows<Project>({
      text: `UPDATE projects p SET name = COALESCE($2, name), description = COALESCE($3, description),
                    archived = COALESCE($4, archived), updated_at = now(), version = version + 1
              WHERE id = $1 RETURNING ${COLUMNS}`,
      values: [projectId, changes.name ?? null, changes.description ?? null, changes.archived ?? null],
    });
    return row;
  }

  /** Its tasks go with it (and their attachments, whose files their trigger queues). */
  async delete(tx: Transaction, projectId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM projects WHERE id = $1', values: [projectId] });
  }

  /**
   * Advances the project's task counter and returns the number, with the principal's role: one
   * statement that locks the project row until the transaction ends, so that concurrent
   * creations get consecutive numbers and a rolled-back one gives its number back.
   */
  async takeTaskNumber(tx: Transaction, principal: Principal, projectId: string): Promise<TaskNumber | undefined> {
    const [row] = await tx.rows<TaskNumber>({
      text: `UPDATE projects p SET task_seq = p.task_seq + 1 FROM org_principals m
              WHERE p.id = $1 AND ${membershipOf('p.org_id', '$2')}
              RETURNING p.org_id AS "orgId", p.key, p.archived, m.role, p.task_seq AS number`,
      values: [projectId, principal.id],
    });
    return row;
  }
}
