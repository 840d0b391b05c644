import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiKeysAccepted, PeopleOnly } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { UuidParam } from '../common/http/uuid-param';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { AddMemberDto, CreateOrgDto, ListOrgsQuery, UpdateMemberDto, UpdateOrgDto } from './dto/org.dto';
import { MembersService } from './members.service';
import { MemberResponse, OrgResponse } from './org.response';
import { OrgsService } from './orgs.service';

@ApiTags('orgs')
@ApiErrors(400)
@ApiKeysAccepted()
@Controller('orgs')
export class OrgsController {
  constructor(
    private readonly orgs: OrgsService,
    private readonly members: MembersService,
  ) {}

  @Post()
  @PeopleOnly()
  @Created((org: OrgResponse) => apiPath('orgs', org.id))
  @ApiOperation({
    summary: 'Create an organization; you become its owner',
    description:
      'Any signed-in person (API keys get 403). Without a `slug` one is derived from the name (with a random suffix if that one is taken); a `slug` you give that is taken is a 409. Audited as `org.created` and `membership.created`.',
  })
  @ApiEnvelope(OrgResponse, HttpStatus.CREATED, 'Created; Location points at the organization')
  @ApiErrors(409)
  create(@CurrentActor() actor: Actor, @Body() body: CreateOrgDto): Promise<OrgResponse> {
    return this.orgs.create(actor, body);
  }

  @Get()
  @ApiOperation({
    summary: 'The organizations you belong to',
    description:
      'For a person, every organization they are a member of; for an API key, its own organization. Sorted by `sort` (by name by default) and paged by cursor.',
  })
  @ApiListEnvelope(OrgResponse)
  list(@CurrentActor() actor: Actor, @Query() query: ListOrgsQuery): Promise<Page<OrgResponse>> {
    return this.orgs.listMine(actor, query);
  }

  @Get(':orgId')
  @ApiOperation({
    summary: 'An organization (members)',
    description:
      "Any member, viewers and the organization's API keys included. 404 for anyone else, as if it did not exist.",
  })
  @ApiEnvelope(OrgResponse)
  @ApiErrors(404)
  get(@CurrentActor() actor: Actor, @UuidParam('orgId') orgId: string): Promise<OrgResponse> {
    return this.orgs.get(actor, orgId);
  }

  @Patch(':orgId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Rename an organization or change its slug (admin+)',
    description:
      'Admins and owners (or an admin API key of the organization). 409 if the new slug is taken. `If-Match` guards against lost updates (412). Audited (and sent to subscribed webhooks) as `org.updated` when something changed.',
  })
  @ApiEnvelope(OrgResponse)
  @ApiErrors(403, 404, 409)
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('orgId') orgId: string,
    @Body() body: UpdateOrgDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<OrgResponse> {
    return this.orgs.update(actor, orgId, body, expected);
  }

  @Delete(':orgId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Delete an organization with its projects and tasks (owner)',
    description:
      'Owners only. Its projects, tasks, comments, attachments (their files once the deletion commits), memberships, invitations, API keys and webhooks go with it; its audit trail stays, with `org.deleted` last. `If-Match` applies (412).',
  })
  @ApiNoContent('Deleted')
  @ApiErrors(403, 404)
  async remove(
    @CurrentActor() actor: Actor,
    @UuidParam('orgId') orgId: string,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<void> {
    await this.orgs.delete(actor, orgId, expected);
  }

  @Get(':orgId/members')
  @OrgAccess('member.read')
  @ApiOperation({
    summary: 'Members, oldest first (members)',
    description:
      "Any member, viewers and the organization's API keys included; paged by cursor. 404 if you are not a member.",
  })
  @ApiListEnvelope(MemberResponse)
  listMembers(
    @CurrentMembership() membership: Membership,
    @CurrentActor() actor: Actor,
    @Query() query: ListQuery,
  ): Promise<Page<MemberResponse>> {
    return this.members.list(actor, membership.orgId, query);
  }

  @Post(':orgId/members')
  @OrgAccess('member.add')
  @PeopleOnly()
  @Created((member: MemberResponse) => apiPath('orgs', member.orgId, 'members', member.userId))
  @ApiOperation({
    summary: 'Add an existing user by email (admin+; owners only by owners)',
    description:
      'Admins and owners, people only (API keys get 403); only an owner may add an owner. 404 if no active account has the email (invite them instead), 409 if they are already a member. Audited (and sent to subscribed webhooks) as `membership.created`.',
  })
  @ApiEnvelope(MemberResponse, HttpStatus.CREATED, 'Added; Location points at the membership')
  @ApiErrors(409)
  addMember(
    @CurrentActor() actor: Actor,
    @CurrentMembership() membership: Membership,
    @Body() body: AddMemberDto,
  ): Promise<MemberResponse> {
    return this.members.add(actor, membership, body.email, body.role);
  }

  @Get(':orgId/members/:userId')
  @OrgAccess('member.read')
  @ApiOperation({
    summary: 'One member (members)',
    description:
      "Any member, viewers and the organization's API keys included. 404 if you are not a member of the organization, or the user is not.",
  })
  @ApiEnvelope(MemberResponse)
  getMember(@CurrentMembership() membership: Membership, @UuidParam('userId') userId: string): Promise<MemberResponse> {
    return this.members.get(membership.orgId, userId);
  }

  @Patch(':orgId/members/:userId')
  @OrgAccess('member.changeRole')
  @PeopleOnly()
  @ApiOperation({
    summary: "Change a member's role (admin+; owner roles only by owners)",
    description:
      "Admins and owners, people only (API keys get 403); making someone an owner, or changing an owner's role, takes an owner. 409 if the organization would be left without an owner. Audited (and sent to subscribed webhooks) as `membership.updated` when the role changes.",
  })
  @ApiEnvelope(MemberResponse)
  @ApiErrors(409)
  changeRole(
    @CurrentActor() actor: Actor,
    @CurrentMembership() membership: Membership,
    @UuidParam('userId') userId: string,
    @Body() body: UpdateMemberDto,
  ): Promise<MemberResponse> {
    return this.members.changeRole(actor, membership, userId, body.role);
  }

  @Delete(':orgId/members/:userId')
  @PeopleOnly()
  @HttpCode(HttpStatus.NO_CONTENT)
  @OrgAccess('org.read')
  @ApiOperation({
    summary: 'Remove a member (admin+), or leave (yourself); the last owner stays',
    description:
      'People only (API keys get 403). Any member may remove themselves; removing someone else takes an admin or owner, and removing an owner takes an owner. 409 for the last owner. Audited (and sent to subscribed webhooks) as `membership.deleted`.',
  })
  @ApiNoContent('Removed')
  @ApiErrors(409)
  async removeMember(
    @CurrentActor() actor: Actor,
    @CurrentMembership() membership: Membership,
    @UuidParam('userId') userId: string,
  ): Promise<void> {
    await this.members.remove(actor, membership, userId);
  }
}
