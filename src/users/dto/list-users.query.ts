import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { PLATFORM_ROLES, PlatformRole } from '../../common/auth/auth-user';
import { ListQuery } from '../../common/pagination/list.query';
import { Trim } from '../../common/http/validation';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

export const USER_SORTS = ['createdAt', '-createdAt', 'name', '-name'] as const;
export type UserSort = (typeof USER_SORTS)[number];

export class ListUsersQuery extends ListQuery {
  @ApiPropertyOptional({
    maxLength: 100,
    pattern: STRING_PATTERNS.text,
    description: 'Name or email contains this text (case-insensitive)',
  })
  @IsOptional()
  @Trim()
  @IsString()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ enum: PLATFORM_ROLES, enumName: 'PlatformRole' })
  @IsOptional()
  @IsIn(PLATFORM_ROLES)
  role?: PlatformRole;

  @ApiPropertyOptional({ enum: USER_SORTS, enumName: 'UserSort', default: '-createdAt' })
  @IsOptional()
  @IsIn(USER_SORTS)
  sort: UserSort = '-createdAt';
}
