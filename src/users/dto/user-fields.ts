import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsEmail, IsNotEmpty, IsString, Length, MaxLength } from 'class-validator';
import { NormalizeEmail, Trim } from '../../common/http/validation';

/**
 * The fields of a user that DTOs of several modules take (users, auth, orgs), documented and
 * validated once. A variant where they are optional is a mapped type of the DTO (PartialType).
 */
export const EmailField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ format: 'email', maxLength: 254, example: 'ada@example.com' }),
    NormalizeEmail(),
    IsEmail({}, { message: '$property must be an email' }),
    MaxLength(254),
  );

export const NameField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ minLength: 1, maxLength: 100, example: 'Ada Lovelace' }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

/** A password being set: 8 to 128 characters. */
export const PasswordField = (description?: string): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ minLength: 8, maxLength: 128, format: 'password', example: 'correct horse battery', description }),
    IsString(),
    Length(8, 128),
  );
