import { Injectable } from '@nestjs/common';
import { Action, requireAccess } from '../access/access-policy';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { TasksService } from '../tasks/tasks.service';
import { CommentResponse } from './comment.response';
import { CommentsRepository, CommentWithRole } from './comments.repository';
import { CreateCommentDto, UpdateCommentDto } from './dto/comment.dto';
import { ListCommentsQuery } from './dto/list-comments.query';

/** Comments on tasks: any member may read and write them (viewers too); only the author edits. */
@Injectable()
export class CommentsService {
  constructor(
    private readonly comments: CommentsRepository,
    private readonly tasks: TasksService,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  async create(actor: Actor, taskId: string, input: CreateCommentDto): Promise<CommentResponse> {
    return this.unitOfWork.run(async (tx) => {
      const { orgId } = await this.tasks.authorize(actor, taskId, 'comment.create', tx);
      const comment = await this.comments.insert(tx, { taskId, orgId, authorId: actor.id, body: input.body });
      const response = CommentResponse.from(comment);
      await this.audit.record(tx, actor, {
        orgId,
        action: 'comment.created',
        entityType: 'comment',
        entityId: comment.id,
        changes: { taskId: [null, taskId], body: [null, comment.body] },
        data: response,
      });
      return response;
    }, actor);
  }

  async list(principal: Principal, taskId: string, query: ListCommentsQuery): Promise<Page<CommentResponse>> {
    await this.tasks.authorize(principal, taskId, 'comment.read');
    return this.comments.list(
      principal.id,
      taskId,
      inCreationOrder(
        'c',
        listScope('comments', { taskId, sort: query.sort }),
        query.sort.startsWith('-') ? 'DESC' : 'ASC',
        CommentResponse.from,
        query,
      ),
    );
  }

  /** Only the author, with If-Match checked under the row lock. */
  async update(
    actor: Actor,
    commentId: string,
    input: UpdateCommentDto,
    expected: ExpectedVersions,
  ): Promise<CommentResponse> {
    return this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, commentId, 'comment.update', expected);
      const changes = diffChanges(current, input, ['body']);
      if (Object.keys(changes).length === 0) return CommentResponse.from(current);
      const response = CommentResponse.from(await this.comments.updateBody(tx, commentId, input.body));
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'comment.updated',
        entityType: 'comment',
        entityId: commentId,
        changes,
        data: response,
      });
      return response;
    });
  }

  /** The author, or an admin or owner of the org. */
  async delete(actor: Actor, commentId: string, expected: ExpectedVersions): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, commentId, 'comment.delete', expected);
      await this.comments.delete(tx, commentId);
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'comment.deleted',
        entityType: 'comment',
        entityId: commentId,
        changes: { taskId: [current.taskId, null], body: [current.body, null] },
        data: CommentResponse.from(current),
      });
    });
  }

  private async lockForChange(
    tx: Transaction,
    principal: Principal,
    commentId: string,
    action: Extract<Action, 'comment.update' | 'comment.delete'>,
    expected: ExpectedVersions,
  ): Promise<CommentWithRole> {
    const current = await this.comments.lockForPrincipal(tx, principal, commentId);
    if (!current) throw ApiException.notFound('Comment');
    requireAccess(principal, action, { role: current.role, ownerId: current.authorId });
    if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
    return current;
  }
}
