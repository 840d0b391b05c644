import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEmail, IsIn, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';
import { PLATFORM_ROLES } from '../../common/auth/auth-user';
import { NormalizeEmail, OptionalField, Trim } from '../../common/http/validation';

/** The validated, documented fields of a user, shared by every DTO that takes them. */
export const EmailField = (optional = false): PropertyDecorator =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({ format: 'email', maxLength: 254, example: 'ada@example.com' }),
    ...(optional ? [OptionalField()] : []),
    NormalizeEmail(),
    IsEmail({}, { message: '$property must be an email' }),
    MaxLength(254),
  );

export const NameField = (optional = false): PropertyDecorator =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({ minLength: 1, maxLength: 100, example: 'Ada Lovelace' }),
    ...(optional ? [OptionalField()] : []),
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
