import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';
import { PLATFORM_ROLES } from '../../common/auth/auth-user';
import { OptionalField, Trim } from '../../common/http/validation';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

/**
 * The validated, documented fields of a user, shared by every DTO that takes them (users, auth);
 * the email is common/http's EmailField. Where they are optional (PATCH), the DTO is a mapped
 * type (PartialType).
 */
export const NameField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Ada Lovelace' }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

export const PasswordField = (description?: string): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ minLength: 8, maxLength: 128, format: 'password', example: 'correct horse battery', description }),
    IsString(),
    Length(8, 128),
  );

/** Optional wherever it is taken: left out, a new user is a `user` and an existing one keeps their role. */
export const RoleField = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      enum: PLATFORM_ROLES,
      enumName: 'PlatformRole',
      description: 'Platform role; only admins may set it',
    }),
    OptionalField(),
    IsIn(PLATFORM_ROLES),
  );
