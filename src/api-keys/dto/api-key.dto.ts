import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';
import { API_KEY_ROLES, ApiKeyRole } from '../../common/auth/auth-user';
import { DATE_TIME_MAX_LENGTH, IsDateTime } from '../../common/http/dates';
import { Trim } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

/** An instant still to come (checked when the request is validated). */
const IsFutureInstant = (options?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isFutureInstant',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && Date.parse(value) > Date.now(),
        defaultMessage: (args) => `${args?.property} must be in the future`,
      },
    },
    options,
  );

const NameField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({
      minLength: 1,
      maxLength: 100,
      pattern: STRING_PATTERNS.nonBlankText,
      example: 'CI pipeline',
      description: 'What the key is for',
    }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

export class CreateApiKeyDto {
  @NameField()
  name: string;

  @ApiProperty({
    enum: API_KEY_ROLES,
    enumName: 'ApiKeyRole',
    example: 'member',
    description: 'The org role the key acts with (never owner)',
  })
  @IsIn(API_KEY_ROLES)
  role: ApiKeyRole;

  @ApiPropertyOptional({
    type: 'string',
    format: 'date-time',
    maxLength: DATE_TIME_MAX_LENGTH,
    nullable: true,
    example: '2027-06-30T00:00:00.000Z',
    description: 'When the key stops working: any future instant; omitted or null, it never expires',
  })
  @IsOptional()
  @IsDateTime()
  @IsFutureInstant()
  expiresAt?: string | null;
}

export const API_KEY_SORTS = ['createdAt', '-createdAt'] as const;

export class ListApiKeysQuery extends ListQuery {
  @ApiPropertyOptional({ enum: API_KEY_SORTS, enumName: 'ApiKeySort', default: '-createdAt' })
  @IsOptional()
  @IsIn(API_KEY_SORTS)
  sort: (typeof API_KEY_SORTS)[number] = '-createdAt';
}
