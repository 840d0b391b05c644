import { ApiProperty } from '@nestjs/swagger';
import { ORG_ROLES, OrgRole } from '../access/org-roles';
import { INVITATION_STATUSES, InvitationPreviewRow, InvitationRow, InvitationStatus } from './invitations.repository';
import { STRING_PATTERNS } from '../common/swagger/string-formats';
import { NullableInstantProperty } from '../common/swagger/instant-property';

export class InvitationResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: '3b9d6f2e-8c41-4a7e-9f05-6d2c1e8a4b70' })
  id: string;

  @ApiProperty({ format: 'uuid', maxLength: 36, example: '5a7c9e1b-2d4f-4b6a-8c0e-1f3a5b7d9e2c' })
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
    example: '8e2f4a6c-1b3d-4e5f-9a7b-0c2d4e6f8a1b',
    description: 'The user who invited (null only if that user no longer exists at all)',
  })
  invitedBy: string | null;

  @ApiProperty({
    format: 'date-time',
    maxLength: 30,
    example: '2026-11-30T10:00:00.000Z',
    description: '7 days after creation',
  })
  expiresAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:00.000Z' })
  createdAt: string;

  @NullableInstantProperty('Null unless accepted', null)
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

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-30T10:00:00.000Z' })
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
