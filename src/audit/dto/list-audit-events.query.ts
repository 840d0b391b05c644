import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { DATE_TIME_EXAMPLE, DATE_TIME_MAX_LENGTH, IsDateTime } from '../../common/http/dates';
import { ListQuery } from '../../common/pagination/list.query';
import { AUDIT_ENTITY_TYPES } from '../audit-event.response';

/** Newest first. `since` and `until` are inclusive ISO 8601 timestamps. */
export class ListAuditEventsQuery extends ListQuery {
  @ApiPropertyOptional({ enum: AUDIT_ENTITY_TYPES, enumName: 'AuditEntityType' })
  @IsOptional()
  @IsIn(AUDIT_ENTITY_TYPES)
  entityType?: string;

  @ApiPropertyOptional({ format: 'uuid', maxLength: 36 })
  @IsOptional()
  @IsUUID()
  entityId?: string;

  @ApiPropertyOptional({ format: 'uuid', maxLength: 36 })
  @IsOptional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ maxLength: 64, pattern: '^[a-z]+\\.[a-z_]+$', example: 'task.updated' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  @Matches(/^[a-z]+\.[a-z_]+$/, { message: 'action must look like task.updated' })
  action?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    maxLength: DATE_TIME_MAX_LENGTH,
    example: DATE_TIME_EXAMPLE,
    description: `Events at or after this instant, inclusive: RFC 3339 with seconds, a fraction of at most 6 digits, and Z or an offset`,
  })
  @IsOptional()
  @IsDateTime()
  since?: string;

  @ApiPropertyOptional({
    format: 'date-time',
    maxLength: DATE_TIME_MAX_LENGTH,
    example: DATE_TIME_EXAMPLE,
    description: `Events at or before this instant, inclusive: RFC 3339 with seconds, a fraction of at most 6 digits, and Z or an offset`,
  })
  @IsOptional()
  @IsDateTime()
  until?: string;
}
