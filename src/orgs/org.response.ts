import { ApiProperty } from '@nestjs/swagger';
import { VersionedResponse, versioned } from '../common/http/versioned.response';
import { ORG_ROLES, OrgRole } from '../access/org-roles';
import type { Org } from './org.entity';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export class OrgResponse extends VersionedResponse {
  @ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Acme Inc.' })
  name: string;

  @ApiProperty({ pattern: '^[a-z0-9-]{2,48}$', minLength: 2, maxLength: 48, example: 'acme' })
  slug: string;

  static from(org: Org): OrgResponse {
    return versioned(org, {
      name: org.name,
      slug: org.slug,
    });
  }
}

export class MemberUser {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  id: string;

  @ApiProperty({ format: 'email', maxLength: 254 })
  email: string;

  @ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText })
  name: string;
}

export class MemberResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  userId: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  orgId: string;

  @ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole' })
  role: OrgRole;

  @ApiProperty({ type: MemberUser })
  user: MemberUser;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  createdAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  updatedAt: string;
}
