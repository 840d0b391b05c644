import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsString, Matches, MaxLength } from 'class-validator';
import { ORG_ROLES, OrgRole } from '../../common/tenancy/org-role';
import { OptionalField, Trim } from '../../common/http/validation';
import { EmailField } from '../../users/dto/user-fields';
import { ListQuery } from '../../common/pagination/list.query';

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

const OrgNameField = (optional: boolean): PropertyDecorator =>
  applyDecorators(
    (optional ? ApiPropertyOptional : ApiProperty)({ minLength: 1, maxLength: 100, example: 'Acme Inc.' }),
    ...(optional ? [OptionalField()] : []),
    Trim(),
    IsString(),
    IsNotEmpty(),
    MaxLength(100),
  );

export class CreateOrgDto {
  @OrgNameField(false)
  name: string;

  @SlugField()
  slug?: string;
}

export class UpdateOrgDto {
  @OrgNameField(true)
  name?: string;

  @SlugField()
  slug?: string;
}

const RoleField = (): PropertyDecorator =>
  applyDecorators(ApiProperty({ enum: ORG_ROLES, enumName: 'OrgRole' }), IsIn(ORG_ROLES));

export class AddMemberDto {
  @EmailField()
  email: string;

  @RoleField()
  role: OrgRole;
}

export class UpdateMemberDto {
  @RoleField()
  role: OrgRole;
}

export const ORG_SORTS = ['createdAt', '-createdAt', 'name', '-name'] as const;

export class ListOrgsQuery extends ListQuery {
  @ApiPropertyOptional({ enum: ORG_SORTS, enumName: 'OrgSort', default: 'name' })
  @OptionalField()
  @IsIn(ORG_SORTS)
  sort: (typeof ORG_SORTS)[number] = 'name';
}
