import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { DATE_TIME_EXAMPLE, DATE_TIME_MAX_LENGTH, IsDateTime } from '../../common/http/dates';
import { PRINCIPAL_KINDS } from '../../common/auth/auth-user';
import { ListQuery } from '../../common/pagination/list.query';
import { AUDIT_ENTITY_TYPES } from '../audit-event.response';

const IdField = (): PropertyDecorator =>
  applyDecorators(ApiPropertyOptional({ format: 'uuid', maxLength: 36 }), IsOptional(), IsUUID());

const InstantField = (bound: 'at or after' | 'at or before'): PropertyDecorator =>
  applyDecorators(
    ApiPropertyOptional({
      format: 'date-time',
      maxLength: DATE_TIME_MAX_LENGTH,
      example: DATE_TIME_EXAMPLE,
      description: `Events ${bound} this instant, inclusive: RFC 3339 with seconds, a fraction of at most 6 digits, and Z or an offset`,
    }),
    IsOptional(),
    IsDateTime(),
  );

/** Newest first. `since` and `until` are inclusive ISO 8601 timestamps. */
export class ListAuditEventsQuery extends ListQuery {
  @ApiPropertyOptional({ enum: AUDIT_ENTITY_TYPES, enumName: 'AuditEntityType' })
  @IsOptional()
  @IsIn(AUDIT_ENTITY_TYPES)
  entityType?: string;

  @IdField()
  entityId?: string;

  @ApiPropertyOptional({ enum: PRINCIPAL_KINDS, enumName: 'ActorType' })
  @IsOptional()
  @IsIn(PRINCIPAL_KINDS)
  actorType?: string;

  @IdField()
  actorId?: string;

  @ApiPropertyOptional({ maxLength: 64, pattern: '^[a-z_]+\\.[a-z_]+$', example: 'task.updated' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z_]+\.[a-z_]+$/, { message: 'action must look like task.updated' })
  action?: string;

  @InstantField('at or after')
  since?: string;

  @InstantField('at or before')
  until?: string;
}
