import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsOptional, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
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

  @ApiPropertyOptional({ format: 'date-time', maxLength: 30 })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;

  @ApiPropertyOptional({ format: 'date-time', maxLength: 30 })
  @IsOptional()
  @IsISO8601({ strict: true })
  until?: string;
}
