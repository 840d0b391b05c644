import { ApiProperty } from '@nestjs/swagger';
import { VersionedResponse, versioned } from '../common/http/versioned.response';
import { PLATFORM_ROLES, PlatformRole } from '../common/auth/auth-user';
import type { User } from './user.entity';
import { apiPath } from '../common/http/api-path';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

/** A user as clients see it: never the password hash. */
export class UserResponse extends VersionedResponse {
  @ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' })
  email: string;

  @ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Ada Lovelace' })
  name: string;

  @ApiProperty({
    enum: PLATFORM_ROLES,
    enumName: 'PlatformRole',
    description: 'Platform role; organization roles are separate',
  })
  role: PlatformRole;

  @ApiProperty({
    type: String,
    format: 'uri-reference',
    nullable: true,
    maxLength: 2048,
    description:
      'Where the avatar is served (`/api/v1/users/{id}/avatar?v=…`; `v` changes with the image, so the URL can be cached), or null',
  })
  avatarUrl: string | null;

  static from(user: User): UserResponse {
    return versioned(user, {
      email: user.email,
      name: user.name,
      role: user.role,
      avatarUrl: user.avatarSha256
        ? `${apiPath('users', user.id, 'avatar')}?v=${user.avatarSha256.slice(0, 16)}`
        : null,
    });
  }
}
