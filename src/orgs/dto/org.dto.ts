import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, PartialType, PickType } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { ORG_ROLES, OrgRole } from '../../access/org-roles';
import { EmailField, OptionalField, Trim } from '../../common/http/validation';
import { ListQuery } from '../../common/pagination/list.query';
import { STRING_PATTERNS } from '../../common/swagger/string-formats';

const OrgNameField = (): PropertyDecorator =>
  applyDecorators(
    ApiProperty({ minLength: 1, maxLength: 100, pattern: STRING_PATTERNS.nonBlankText, example: 'Acme Inc.' }),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

/** Optional wherever it is taken. */
const SlugField = (): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      pattern: '^[a-z0-9-]{2,48}$',
      minLength: 2,
      maxLength: 48,
      description: 'Unique; derived from the name when left out',
    }),
    OptionalField(),
    IsString(),
    MaxLength(48),
    Matches(/^[a-z0-9-]{2,48}$/, { message: 'slug must be 2 to 48 lower-case letters, digits or hyphens' }),
  );

const RoleField = (): PropertyDecorator =>
  applyDecorators(ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole' }), IsIn(ORG_ROLES));

export class CreateOrgDto {
  @OrgNameField()
  name: string;

  @SlugField()
  slug?: string;
}

/** PATCH: any subset of the fields of POST. A field sent as null is validated (and refused), not skipped. */
export class UpdateOrgDto extends PartialType(CreateOrgDto, { skipNullProperties: false }) {}

export class AddMemberDto {
  @EmailField()
  email: string;

  @RoleField()
  role: OrgRole;
}

/** PATCH: the role is all a membership has to change. */
export class UpdateMemberDto extends PickType(AddMemberDto, ['role'] as const) {}

export const ORG_SORTS = ['createdAt', '-createdAt', 'name', '-name'] as const;

export class ListOrgsQuery extends ListQuery {
  @ApiPropertyOptional({ enum: ORG_SORTS, enumName: 'OrgSort', default: 'name' })
  @IsOptional()
  @IsIn(ORG_SORTS)
  sort: (typeof ORG_SORTS)[number] = 'name';
}
