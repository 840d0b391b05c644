import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';
import { findTaskMembership } from '../tasks/task-access';
import { UnitOfWork } from '../database/unit-of-work';
import { Comment } from './comment.entity';
import { CommentResponse } from './comment.response';
import { CreateCommentDto, UpdateCommentDto } from './dto/comment.dto';
import { ListCommentsQuery } from './dto/list-comments.query';

const COLUMNS = `c.id, c.task_id AS "taskId", c.org_id AS "orgId", c.author_id AS "authorId", c.body,
  c.created_at AS "createdAt", c.updated_at AS "updatedAt", c.version`;

type CommentWithRole = Comment & { role: OrgRole };

/** Comments on tasks: any member may read and write them (viewers too); only the author edits. */
@Injectable()
export class CommentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly paginator: CursorPaginator,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async create(actor: Actor, taskId: string, input: CreateCommentDto): Promise<CommentResponse> {
    return this.unitOfWork.run(actor, async (manager) => {
      const { orgId } = await findTaskMembership(manager, actor.userId, taskId, true);
      const [comment]: Comment[] = await manager.query(
        `INSERT INTO comments AS c (task_id, org_id, author_id, body) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
        [taskId, orgId, actor.userId, input.body],
      );
      await this.audit.record(manager, actor, {
        orgId,
        action: 'comment.created',
        entityType: 'comment',
        entityId: comment.id,
        changes: { taskId: [null, taskId], body: [null, comment.body] },
      });
      return CommentResponse.from(comment);
    });
  }

  async list(userId: string, taskId: string, query: ListCommentsQuery): Promise<Page<CommentResponse>> {
    await findTaskMembership(this.dataSource.manager, userId, taskId);
    const qb = this.dataSource.createQueryBuilder(Comment, 'c').where('c.task_id = :taskId', { taskId });
    return this.paginator.paginate(qb, {
      scope: listScope('comments', { taskId, sort: query.sort }),
      sortColumn: 'c.created_at',
      idColumn: 'c.id',
      direction: query.sort.startsWith('-') ? 'DESC' : 'ASC',
      position: (c) => [c.createdAt.toISOString(), c.id],
      map: CommentResponse.from,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  /** Only the author, with If-Match checked under the row lock. */
  async update(
    actor: Actor,
    commentId: string,
    input: UpdateCommentDto,
    expected: ExpectedVersions,
  ): Promise<CommentResponse> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, commentId);
      if (current.authorId !== actor.userId) throw ApiException.forbidden('Only the author can edit a comment');
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      const changes = diffChanges(current, input, ['body']);
      if (Object.keys(changes).length === 0) return CommentResponse.from(current);
      const [[updated]]: [Comment[], number] = await manager.query(
        `UPDATE comments c SET body = $2, updated_at = now(), version = version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
        [commentId, input.body],
      );
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'comment.updated',
        entityType: 'comment',
        entityId: commentId,
        changes,
      });
      return CommentResponse.from(updated);
    });
  }

  /** The author, or an admin or owner of the org. */
  async delete(actor: Actor, commentId: string, expected: ExpectedVersions): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, commentId);
      if (current.authorId !== actor.userId) assertOrgRole(current.role, 'admin', "delete others' comments");
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      await manager.query('DELETE FROM comments WHERE id = $1', [commentId]);
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'comment.deleted',
        entityType: 'comment',
        entityId: commentId,
        changes: { taskId: [current.taskId, null], body: [current.body, null] },
      });
    });
  }

  /** The comment, locked, and the caller's role in its org; not a member → 404. */
  private async findForMember(manager: EntityManager, userId: string, commentId: string): Promise<CommentWithRole> {
    const [row]: CommentWithRole[] = await manager.query(
      `SELECT ${COLUMNS}, m.role FROM comments c
         JOIN memberships m ON m.org_id = c.org_id AND m.user_id = $2
        WHERE c.id = $1 FOR UPDATE OF c`,
      [commentId, userId],
    );
    if (!row) throw ApiException.notFound('Comment');
    return row;
  }
}
