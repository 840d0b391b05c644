import { ApiProperty } from '@nestjs/swagger';
import { API_KEY_ROLES, ApiKeyRole } from '../common/auth/auth-user';
import { API_KEY_TOKEN, API_KEY_TOKEN_EXAMPLE } from './api-key-token';
import type { ApiKeyRow } from './api-keys.repository';
import { STRING_PATTERNS } from '../common/swagger/string-formats';
import { NullableInstantProperty } from '../common/swagger/instant-property';

export class ApiKeyResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: '9c4e2a7b-5d1f-4c3a-8b6e-2f0d9a1c7e54' })
  id: string;

  @ApiProperty({ format: 'uuid', maxLength: 36, example: '5a7c9e1b-2d4f-4b6a-8c0e-1f3a5b7d9e2c' })
  orgId: string;

  @ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'CI pipeline' })
  name: string;

  @ApiProperty({ enum: API_KEY_ROLES, enumName: 'ApiKeyRole', example: 'member' })
  role: ApiKeyRole;

  @ApiProperty({
    pattern: '^[0-9a-f]{12}$',
    minLength: 12,
    maxLength: 12,
    example: '3f9a1c0b7d2e',
    description: 'Public: the token starts with `tl_<prefix>_`, so a key seen in a log or a config can be named',
  })
  prefix: string;

  @ApiProperty({
    type: 'string',
    format: 'uuid',
    maxLength: 36,
    nullable: true,
    example: '8e2f4a6c-1b3d-4e5f-9a7b-0c2d4e6f8a1b',
    description: 'The person who created it (null once that account no longer exists at all)',
  })
  createdBy: string | null;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:00.000Z' })
  createdAt: string;

  @NullableInstantProperty('Null: never expires', '2027-11-23T10:00:00.000Z')
  expiresAt: string | null;

  @NullableInstantProperty('Roughly: uses are written every 30 s by each instance', '2026-11-24T08:15:03.000Z')
  lastUsedAt: string | null;

  @NullableInstantProperty('Null unless revoked', null)
  revokedAt: string | null;

  static from(row: ApiKeyRow, lastUse?: Date): ApiKeyResponse {
    const lastUsedAt = lastUse && (!row.lastUsedAt || lastUse > row.lastUsedAt) ? lastUse : row.lastUsedAt;
    return {
      id: row.id,
      orgId: row.orgId,
      name: row.name,
      role: row.role,
      prefix: row.prefix,
      createdBy: row.createdBy,
      createdAt: row.createdAt.toISOString(),
      expiresAt: row.expiresAt?.toISOString() ?? null,
      lastUsedAt: lastUsedAt?.toISOString() ?? null,
      revokedAt: row.revokedAt?.toISOString() ?? null,
    };
  }
}

/** The 201 of a new key: the only time its token is shown. */
export class CreatedApiKeyResponse extends ApiKeyResponse {
  @ApiProperty({
    pattern: API_KEY_TOKEN.source,
    minLength: 59,
    maxLength: 59,
    example: API_KEY_TOKEN_EXAMPLE,
    description: 'Send as `Authorization: Bearer <token>`. Shown this once: only its hash is kept.',
  })
  token: string;
}
