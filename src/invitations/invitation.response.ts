import { ApiProperty } from '@nestjs/swagger';
import { ORG_ROLES, OrgRole } from '../access/org-roles';
import { INVITATION_STATUSES, InvitationPreviewRow, InvitationRow, InvitationStatus } from './invitations.repository';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export class InvitationResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  id: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  orgId: string;

  @ApiProperty({ format: 'email', maxLength: 254, example: 'new.colleague@example.com' })
  email: string;

  @ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole', example: 'member' })
  role: OrgRole;

  @ApiProperty({
    enum: INVITATION_STATUSES,
    enumName: 'InvitationStatus',
    example: 'pending',
    description: '`expired` once `expiresAt` has passed unaccepted',
  })
  status: InvitationStatus;

  @ApiProperty({
    type: 'string',
    format: 'uuid',
    maxLength: 36,
    nullable: true,
    description: 'The user who invited (null only if that user no longer exists at all)',
  })
  invitedBy: string | null;

  @ApiProperty({ format: 'date-time', maxLength: 30, description: '7 days after creation' })
  expiresAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  createdAt: string;

  @ApiProperty({ type: 'string', format: 'date-time', maxLength: 30, nullable: true })
  acceptedAt: string | null;

  static from(row: InvitationRow): InvitationResponse {
    return {
      id: row.id,
      orgId: row.orgId,
      email: row.email,
      role: row.role,
      status: row.status,
      invitedBy: row.invitedBy,
      expiresAt: row.expiresAt.toISOString(),
      createdAt: row.createdAt.toISOString(),
      acceptedAt: row.acceptedAt?.toISOString() ?? null,
    };
  }
}

/** What the link in the mail shows before the invitee accepts. */
export class InvitationPreviewResponse {
  @ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Acme Inc.' })
  orgName: string;

  @ApiProperty({
    type: 'string',
    minLength: 1,
    maxLength: 100,
    pattern: STRING_PATTERNS.nonBlankText,
    nullable: true,
    example: 'Ada Lovelace',
    description: 'Null once the inviter’s account is deleted',
  })
  invitedByName: string | null;

  @ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole', example: 'member' })
  role: OrgRole;

  @ApiProperty({ format: 'email', maxLength: 254, example: 'new.colleague@example.com' })
  email: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  expiresAt: string;

  static from(row: InvitationPreviewRow): InvitationPreviewResponse {
    return {
      orgName: row.orgName,
      invitedByName: row.invitedByName,
      role: row.role,
      email: row.email,
      expiresAt: row.expiresAt.toISOString(),
    };
  }
}
