import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { Public } from '../common/decorators/public.decorator';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { UuidParam } from '../common/http/uuid-param';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { MemberResponse } from '../orgs/org.response';
import {
  AcceptInvitationDto,
  CreateInvitationDto,
  InvitationTokenQuery,
  ListInvitationsQuery,
} from './dto/invitation.dto';
import { InvitationPreviewResponse, InvitationResponse } from './invitation.response';
import { InvitationsService } from './invitations.service';

@ApiTags('invitations')
@ApiErrors(400)
@Controller()
export class InvitationsController {
  constructor(private readonly invitations: InvitationsService) {}

  @Post('orgs/:orgId/invitations')
  @OrgAccess('invitation.create')
  @Created((invitation: InvitationResponse) => apiPath('invitations', invitation.id))
  @ApiOperation({
    summary: 'Invite someone by email (admin+; an owner only by an owner)',
    description:
      'Sends a mail with a link to `{APP_URL}/invitations/accept?token=…`, valid 7 days and once. 409 if the email already belongs to a member or has a pending invitation.',
  })
  @ApiEnvelope(InvitationResponse, HttpStatus.CREATED, 'Created and mailed; Location points at the invitation')
  @ApiErrors(409)
  create(
    @CurrentActor() actor: Actor,
    @CurrentMembership() caller: Membership,
    @Body() body: CreateInvitationDto,
  ): Promise<InvitationResponse> {
    return this.invitations.create(actor, caller, body);
  }

  @Get('orgs/:orgId/invitations')
  @OrgAccess('invitation.read')
  @ApiOperation({
    summary: "The organization's invitations, newest first (admin+)",
    description:
      'Admins and owners, people only (API keys get 403). Every invitation of the organization, filtered by `status` (`expired` ones are pending invitations past `expiresAt`), sorted by `sort` and paged by cursor. Tokens are never shown.',
  })
  @ApiListEnvelope(InvitationResponse)
  list(
    @CurrentMembership() caller: Membership,
    @Query() query: ListInvitationsQuery,
  ): Promise<Page<InvitationResponse>> {
    return this.invitations.list(caller.orgId, query);
  }

  // Before invitations/:invitationId, which would otherwise take "preview" for an id.
  @Get('invitations/preview')
  @Public()
  @ApiOperation({
    summary: 'What an invitation link offers (public)',
    description: 'For the page behind the link in the mail. 404 for an unknown, used, revoked or expired token.',
  })
  @ApiEnvelope(InvitationPreviewResponse)
  @ApiErrors(404)
  preview(@Query() query: InvitationTokenQuery): Promise<InvitationPreviewResponse> {
    return this.invitations.preview(query.token);
  }

  @Post('invitations/accept')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Accept an invitation: you join the organization with its role',
    description:
      'Your account’s email must be the invited one (403 otherwise; someone without an account registers with it first). 404 for an unknown, used, revoked or expired token; 409 if you are already a member.',
  })
  @ApiEnvelope(MemberResponse, HttpStatus.OK, 'The new membership')
  @ApiErrors(403, 404, 409)
  accept(@CurrentActor() actor: Actor, @Body() body: AcceptInvitationDto): Promise<MemberResponse> {
    return this.invitations.accept(actor, body.token);
  }

  @Get('invitations/:invitationId')
  @ApiOperation({
    summary: 'An invitation (admin+ of its organization)',
    description:
      "Admins and owners of the invitation's organization, people only (API keys get 403). 404 if you are not a member of that organization; 403 for members and viewers.",
  })
  @ApiEnvelope(InvitationResponse)
  @ApiErrors(403, 404)
  get(@CurrentActor() actor: Actor, @UuidParam('invitationId') invitationId: string): Promise<InvitationResponse> {
    return this.invitations.get(actor, invitationId);
  }

  @Delete('invitations/:invitationId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Revoke a pending invitation: its link stops working (admin+ of its organization)',
    description:
      'Admins and owners of its organization, people only (API keys get 403). Only a pending invitation can be revoked: an accepted, revoked or expired one is a 409. Audited (and sent to subscribed webhooks) as `invitation.revoked`.',
  })
  @ApiNoContent('Revoked')
  @ApiErrors(403, 404, 409)
  revoke(@CurrentActor() actor: Actor, @UuidParam('invitationId') invitationId: string): Promise<void> {
    return this.invitations.revoke(actor, invitationId);
  }
}
