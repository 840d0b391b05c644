import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiKeysAccepted } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { Idempotent } from '../common/idempotency/idempotent.decorator';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { UuidParam } from '../common/http/uuid-param';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { CreateProjectDto, ListProjectsQuery, ReplaceProjectDto, UpdateProjectDto } from './dto/project.dto';
import { ProjectResponse } from './project.response';
import { ProjectsService } from './projects.service';

@ApiTags('projects')
@ApiErrors(400)
@ApiKeysAccepted()
@Controller()
export class ProjectsController {
  constructor(private readonly projects: ProjectsService) {}

  @Get('orgs/:orgId/projects')
  @OrgAccess('project.read')
  @ApiOperation({
    summary: "The org's projects (members)",
    description:
      "Any member, viewers and the organization's API keys included. Filtered by `archived`, sorted by `sort` (by name by default) and paged by cursor. 404 if you are not a member.",
  })
  @ApiListEnvelope(ProjectResponse)
  list(
    @CurrentMembership() membership: Membership,
    @CurrentActor() actor: Actor,
    @Query() query: ListProjectsQuery,
  ): Promise<Page<ProjectResponse>> {
    return this.projects.list(actor, membership.orgId, query);
  }

  @Post('orgs/:orgId/projects')
  @OrgAccess('project.create')
  @Created((project: ProjectResponse) => apiPath('projects', project.id))
  @Idempotent()
  @ApiOperation({
    summary: 'Create a project (admin+)',
    description:
      'Admins and owners (or an admin API key). The `key` is fixed once created and unique in the organization (409 otherwise); task keys are built from it. Retry-safe with `Idempotency-Key`. Audited (and sent to subscribed webhooks) as `project.created`.',
  })
  @ApiEnvelope(ProjectResponse, HttpStatus.CREATED, 'Created; Location points at the project')
  @ApiErrors(409)
  create(
    @CurrentActor() actor: Actor,
    @CurrentMembership() membership: Membership,
    @Body() body: CreateProjectDto,
  ): Promise<ProjectResponse> {
    return this.projects.create(actor, membership.orgId, body);
  }

  @Get('projects/:projectId')
  @ApiOperation({
    summary: 'A project (members)',
    description:
      "Any member of the project's organization, viewers and its API keys included. 404 for anyone else, as if it did not exist.",
  })
  @ApiEnvelope(ProjectResponse)
  @ApiErrors(404)
  get(@CurrentActor() actor: Actor, @UuidParam('projectId') projectId: string): Promise<ProjectResponse> {
    return this.projects.get(actor, projectId);
  }

  @Put('projects/:projectId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Replace name, description and archived (admin+)',
    description:
      'Admins and owners (or an admin API key); an archived project takes no new tasks. `If-Match` guards against lost updates (412). Audited (and sent to subscribed webhooks) as `project.updated` when something changed. 404 if you are not a member of its organization.',
  })
  @ApiEnvelope(ProjectResponse)
  @ApiErrors(403, 404)
  replace(
    @CurrentActor() actor: Actor,
    @UuidParam('projectId') projectId: string,
    @Body() body: ReplaceProjectDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<ProjectResponse> {
    return this.projects.update(actor, projectId, body, expected);
  }

  @Patch('projects/:projectId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Change some fields of a project (admin+)',
    description:
      'Any subset of the fields of PUT, with the same rules. `If-Match` guards against lost updates (412). Audited (and sent to subscribed webhooks) as `project.updated` when something changed.',
  })
  @ApiEnvelope(ProjectResponse)
  @ApiErrors(403, 404)
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('projectId') projectId: string,
    @Body() body: UpdateProjectDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<ProjectResponse> {
    return this.projects.update(actor, projectId, body, expected);
  }

  @Delete('projects/:projectId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Delete a project and its tasks (admin+)',
    description:
      "Admins and owners (or an admin API key). Its tasks, their comments and attachments go with it, the attachments' files once the deletion commits. `If-Match` applies (412). Audited (and sent to subscribed webhooks) as `project.deleted`.",
  })
  @ApiNoContent('Deleted')
  @ApiErrors(403, 404)
  async remove(
    @CurrentActor() actor: Actor,
    @UuidParam('projectId') projectId: string,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<void> {
    await this.projects.delete(actor, projectId, expected);
  }
}
