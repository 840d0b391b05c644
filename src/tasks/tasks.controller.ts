import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiKeysAccepted } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { UuidParam } from '../common/http/uuid-param';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { ListTasksQuery } from './dto/list-tasks.query';
import { CreateTaskDto, ReplaceTaskDto, UpdateTaskDto } from './dto/task.dto';
import { TaskResponse } from './task.response';
import { ProjectAccess } from '../projects/project-access.guard';
import { TasksService } from './tasks.service';

@ApiTags('tasks')
@ApiErrors(400)
@ApiKeysAccepted()
@Controller()
export class TasksController {
  constructor(private readonly tasks: TasksService) {}

  @Get('projects/:projectId/tasks')
  @ApiOperation({
    summary: "A project's tasks, filtered and sorted (members)",
    description:
      "Any member of the project's organization, viewers and its API keys included (404 for anyone else). Filters combine with AND, a list filter matching any of its values; `q` is a full-text search over title and description. Sorted by `sort` (newest first by default) and paged by cursor: a cursor is valid only with the filters and sort that produced it.",
  })
  @ApiListEnvelope(TaskResponse)
  @ApiErrors(404)
  list(
    @CurrentActor() actor: Actor,
    @UuidParam('projectId') projectId: string,
    @Query() query: ListTasksQuery,
  ): Promise<Page<TaskResponse>> {
    return this.tasks.listInProject(actor, projectId, query);
  }

  @Post('projects/:projectId/tasks')
  @ProjectAccess('task.create')
  @Created((task: TaskResponse) => apiPath('tasks', task.id))
  @Idempotent()
  @ApiOperation({
    summary: 'Create a task (member+); numbers are per project, without gaps',
    description:
      "Members, admins and owners (or an API key with one of those roles). The task gets the project's next number and the key `<project key>-<number>`. 409 if the project is archived; 400 if `assigneeId` is not a member of the organization. Retry-safe with `Idempotency-Key`. Audited (and sent to subscribed webhooks) as `task.created`.",
  })
  @ApiEnvelope(TaskResponse, HttpStatus.CREATED, 'Created; Location points at the task')
  @ApiErrors(403, 404, 409)
  create(
    @CurrentActor() actor: Actor,
    @UuidParam('projectId') projectId: string,
    @Body() body: CreateTaskDto,
  ): Promise<TaskResponse> {
    return this.tasks.create(actor, projectId, body);
  }

  @Get('orgs/:orgId/tasks')
  @OrgAccess('task.read')
  @ApiOperation({
    summary: "Tasks across the org's projects, with the same filters (members)",
    description:
      "Any member of the organization, viewers and its API keys included (404 for anyone else). The filters, sorts and paging of a project's task list, over every project of the organization.",
  })
  @ApiListEnvelope(TaskResponse)
  listInOrg(
    @CurrentActor() actor: Actor,
    @CurrentMembership() membership: Membership,
    @Query() query: ListTasksQuery,
  ): Promise<Page<TaskResponse>> {
    return this.tasks.list({ orgId: membership.orgId }, actor, query);
  }

  @Get('tasks/:taskId')
  @ApiOperation({
    summary: 'A task (members)',
    description:
      "Any member of the task's organization, viewers and its API keys included. 404 for anyone else, as if it did not exist.",
  })
  @ApiEnvelope(TaskResponse)
  @ApiErrors(404)
  get(@CurrentActor() actor: Actor, @UuidParam('taskId') taskId: string): Promise<TaskResponse> {
    return this.tasks.get(actor, taskId);
  }

  @Put('tasks/:taskId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Replace every mutable field of a task (member+)',
    description:
      'Members, admins and owners (or an API key with one of those roles). `assigneeId` must be a member of the organization (400) or null. `If-Match` guards against lost updates (412). Audited (and sent to subscribed webhooks) as `task.updated` when something changed.',
  })
  @ApiEnvelope(TaskResponse)
  @ApiErrors(403, 404)
  replace(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @Body() body: ReplaceTaskDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<TaskResponse> {
    return this.tasks.update(actor, taskId, body, expected);
  }

  @Patch('tasks/:taskId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Change some fields of a task (member+)',
    description:
      'Any subset of the fields of PUT, with the same rules; null clears `assigneeId` or `dueDate`. `If-Match` guards against lost updates (412). Audited (and sent to subscribed webhooks) as `task.updated` when something changed.',
  })
  @ApiEnvelope(TaskResponse)
  @ApiErrors(403, 404)
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @Body() body: UpdateTaskDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<TaskResponse> {
    return this.tasks.update(actor, taskId, body, expected);
  }

  @Delete('tasks/:taskId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Delete a task (member+)',
    description:
      "Members, admins and owners (or an API key with one of those roles). Its comments and attachments go with it, the attachments' files once the deletion commits. `If-Match` applies (412). Audited (and sent to subscribed webhooks) as `task.deleted`.",
  })
  @ApiNoContent('Deleted')
  @ApiErrors(403, 404)
  async remove(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<void> {
    await this.tasks.delete(actor, taskId, expected);
  }
}
