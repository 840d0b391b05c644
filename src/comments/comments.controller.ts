import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiKeysAccepted } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { UuidParam } from '../common/http/uuid-param';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { TaskAccess } from '../tasks/task-access.guard';
import { CommentResponse } from './comment.response';
import { CommentsService } from './comments.service';
import { CreateCommentDto, UpdateCommentDto } from './dto/comment.dto';
import { ListCommentsQuery } from './dto/list-comments.query';

@ApiTags('comments')
@ApiErrors(400)
@ApiKeysAccepted()
@Controller()
export class CommentsController {
  constructor(private readonly comments: CommentsService) {}

  @Get('tasks/:taskId/comments')
  @ApiOperation({
    summary: "A task's comments, oldest first by default (members)",
    description:
      "Any member of the task's organization, viewers and its API keys included (404 for anyone else). Sorted by `sort` and paged by cursor.",
  })
  @ApiListEnvelope(CommentResponse)
  @ApiErrors(404)
  list(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @Query() query: ListCommentsQuery,
  ): Promise<Page<CommentResponse>> {
    return this.comments.list(actor, taskId, query);
  }

  @Post('tasks/:taskId/comments')
  @TaskAccess('comment.create')
  @Created((comment: CommentResponse) => apiPath('comments', comment.id))
  @Idempotent()
  @ApiOperation({
    summary: 'Comment on a task (any member, viewers included)',
    description:
      "Any member of the task's organization, or one of its API keys. The body is kept exactly as written. Retry-safe with `Idempotency-Key`. Audited (and sent to subscribed webhooks) as `comment.created`.",
  })
  @ApiEnvelope(CommentResponse, HttpStatus.CREATED, 'Created; Location points at the comment')
  create(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @Body() body: CreateCommentDto,
  ): Promise<CommentResponse> {
    return this.comments.create(actor, taskId, body);
  }

  @Patch('comments/:commentId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Edit a comment (its author only)',
    description:
      "Only the comment's author, whatever the role of anyone else (403). `If-Match` guards against lost updates (412). Audited (and sent to subscribed webhooks) as `comment.updated` when the body changed. 404 if you are not a member of its organization.",
  })
  @ApiEnvelope(CommentResponse)
  @ApiErrors(403, 404)
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('commentId') commentId: string,
    @Body() body: UpdateCommentDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<CommentResponse> {
    return this.comments.update(actor, commentId, body, expected);
  }

  @Delete('comments/:commentId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Delete a comment (its author, or an org admin or owner)',
    description:
      'The author, or an admin or owner of the organization (403 for others). `If-Match` applies (412). Audited (and sent to subscribed webhooks) as `comment.deleted`.',
  })
  @ApiNoContent('Deleted')
  @ApiErrors(403, 404)
  async remove(
    @CurrentActor() actor: Actor,
    @UuidParam('commentId') commentId: string,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<void> {
    await this.comments.delete(actor, commentId, expected);
  }
}
