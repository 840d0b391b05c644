import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { OptionalField, Trim } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';

const NameField = (optional: boolean): PropertyDecorator =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({ minLength: 1, maxLength: 100, example: 'Engineering' }),
    ...(optional ? [OptionalField()] : []),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

const DescriptionField = (optional: boolean): PropertyDecorator =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({ maxLength: 10000, default: optional ? '' : undefined }),
    ...(optional ? [OptionalField()] : []),
    IsString(),
    MaxLength(10000),
  );

const ArchivedField = (optional: boolean): PropertyDecorator =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({
      type: Boolean,
      description: 'Archived projects take no new tasks',
    }),
    ...(optional ? [OptionalField()] : []),
    IsBoolean(),
  );

export class CreateProjectDto {
  @ApiProperty({
    pattern: '^[A-Z0-9]{2,10}$',
    minLength: 2,
    maxLength: 10,
    example: 'ENG',
    description: 'Unique in the org; fixed',
  })
  @IsString()
  @MaxLength(10)
  @Matches(/^[A-Z0-9]{2,10}$/, { message: 'key must be 2 to 10 upper-case letters or digits' })
  key: string;

  @NameField(false)
  name: string;

  @DescriptionField(true)
  description?: string;
}

/** PUT: every mutable field (the key is fixed at creation). */
export class ReplaceProjectDto {
  @NameField(false)
  name: string;

  @DescriptionField(false)
  description: string;

  @ArchivedField(false)
  archived: boolean;
}

export class UpdateProjectDto {
  @NameField(true)
  name?: string;

  @DescriptionField(true)
  description?: string;

  @ArchivedField(true)
  archived?: boolean;
}

export const PROJECT_SORTS = ['createdAt', '-createdAt', 'name', '-name', 'key', '-key'] as const;

export class ListProjectsQuery extends ListQuery {
  @ApiPropertyOptional({ enum: ['true', 'false'], description: 'Only archived, or only active, projects' })
  @IsOptional()
  @IsIn(['true', 'false'])
  archived?: 'true' | 'false';

  @ApiPropertyOptional({ enum: PROJECT_SORTS, enumName: 'ProjectSort', default: 'name' })
  @IsOptional()
  @IsIn(PROJECT_SORTS)
  sort: (typeof PROJECT_SORTS)[number] = 'name';
}
