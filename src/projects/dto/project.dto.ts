import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { OptionalField, Trim } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

const NameField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Engineering' }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

/** Required on PUT; optional on POST, where a project created without one has ''. */
const DescriptionField = ({ optional = false } = {}): PropertyDecorator =>
  applyDecorators(
    optional
      ? ApiPropertyOptional({ maxLength: 10000, pattern: STRING_PATTERNS.text, default: '' })
      : ApiProperty({ maxLength: 10000, pattern: STRING_PATTERNS.text }),
    ...(optional ? [OptionalField()] : []),
    IsString(),
    MaxLength(10000),
  );

const ArchivedField = (): PropertyDecorator =>
  applyDecorators(ApiProperty({ type: Boolean, description: 'Archived projects take no new tasks' }), IsBoolean());

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

  @NameField()
  name: string;

  @DescriptionField({ optional: true })
  description?: string;
}

/** PUT: every mutable field (the key is fixed at creation). */
export class ReplaceProjectDto {
  @NameField()
  name: string;

  @DescriptionField()
  description: string;

  @ArchivedField()
  archived: boolean;
}

/** PATCH: any subset of the fields of PUT. A field sent as null is validated (and refused), not skipped. */
export class UpdateProjectDto extends PartialType(ReplaceProjectDto, { skipNullProperties: false }) {}

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
