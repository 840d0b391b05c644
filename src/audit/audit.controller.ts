import { Controller, Get, Query } from '@nestjs/common';
import { ApiKeysAccepted } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { Page } from '../common/pagination/page';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import { ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { AuditEventResponse } from './audit-event.response';
import { AuditService } from './audit.service';
import { ListAuditEventsQuery } from './dto/list-audit-events.query';

@ApiTags('audit')
@ApiErrors(400)
@ApiKeysAccepted()
@Controller('orgs/:orgId/audit-events')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @OrgAccess('audit.read')
  @ApiOperation({
    summary: "The org's audit trail, newest first (admin+)",
    description:
      'Admins and owners, or an admin API key of the organization. Every audited change in the organization, filtered by `entityType`, `entityId`, `actorType`, `actorId`, `action` and the inclusive `since`/`until`, and paged by cursor. The trail is append-only.',
  })
  @ApiListEnvelope(AuditEventResponse)
  list(
    @CurrentMembership() membership: Membership,
    @CurrentActor() actor: Actor,
    @Query() query: ListAuditEventsQuery,
  ): Promise<Page<AuditEventResponse>> {
    return this.audit.list(actor, membership.orgId, query);
  }
}
