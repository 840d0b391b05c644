import { Injectable } from '@nestjs/common';
import { joinMembership } from '../access/membership-lookup';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { Comment } from './comment.entity';

const COLUMNS = `c.id, c.task_id AS "taskId", c.org_id AS "orgId", c.author_id AS "authorId", c.body,
  c.created_at AS "createdAt", c.updated_at AS "updatedAt", c.version`;

export type CommentWithRole = Comment & { role: OrgRole };

/** All SQL for the comments table. */
@Injectable()
export class CommentsRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  async insert(tx: Transaction, comment: Pick<Comment, 'taskId' | 'orgId' | 'authorId' | 'body'>): Promise<Comment> {
    const [row] = await tx.rows<Comment>({
      text: `INSERT INTO comments AS c (task_id, org_id, author_id, body) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
      values: [comment.taskId, comment.orgId, comment.authorId, comment.body],
    });
    return row;
  }

  /** Oldest first. A list may lag: a replica that has `readerId`'s writes may serve it. */
  list<Item>(readerId: string, taskId: string, page: KeysetPage<Comment, Item>): Promise<Page<Item>> {
    return this.paginator.pageOfStatement(
      page,
      { select: `SELECT ${COLUMNS} FROM comments c`, where: ['c.task_id = $1'], values: [taskId] },
      (s) => this.db.laggingRows<Comment>(readerId, s),
    );
  }

  /** The comment, locked, and the principal's role in its org; none when either is missing. */
  async lockForPrincipal(
    tx: Transaction,
    principal: Principal,
    commentId: string,
  ): Promise<CommentWithRole | undefined> {
    const [row] = await tx.rows<CommentWithRole>({
      text: `SELECT ${COLUMNS}, m.role FROM comments c ${joinMembership('c.org_id', '$2')} WHERE c.id = $1 FOR UPDATE OF c`,
      values: [commentId, principal.id],
    });
    return row;
  }

  async updateBody(tx: Transaction, commentId: string, body: string): Promise<Comment> {
    const [row] = await tx.rows<Comment>({
      text: `UPDATE comments c SET body = $2, updated_at = now(), version = version + 1 WHERE id = $1 RETURNING ${COLUMNS}`,
      values: [commentId, body],
    });
    return row;
  }

  async delete(tx: Transaction, commentId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM comments WHERE id = $1', values: [commentId] });
  }
}
