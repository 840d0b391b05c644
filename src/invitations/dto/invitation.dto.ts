import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { ORG_ROLES, OrgRole } from '../../access/org-roles';
import { EmailField, LinkTokenField } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';
import { INVITATION_STATUSES, InvitationStatus } from '../invitations.repository';

export class CreateInvitationDto {
  @EmailField()
  email: string;

  @ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole', example: 'member', description: '`owner` only by an owner' })
  @IsIn(ORG_ROLES)
  role: OrgRole;
}

export const INVITATION_SORTS = ['createdAt', '-createdAt'] as const;

export class ListInvitationsQuery extends ListQuery {
  @ApiPropertyOptional({ enum: INVITATION_STATUSES, enumName: 'InvitationStatus' })
  @IsOptional()
  @IsIn(INVITATION_STATUSES)
  status?: InvitationStatus;

  @ApiPropertyOptional({ enum: INVITATION_SORTS, enumName: 'InvitationSort', default: '-createdAt' })
  @IsOptional()
  @IsIn(INVITATION_SORTS)
  sort: (typeof INVITATION_SORTS)[number] = '-createdAt';
}

export class InvitationTokenQuery {
  @LinkTokenField('invitation')
  token: string;
}

export class AcceptInvitationDto {
  @LinkTokenField('invitation')
  token: string;
}
