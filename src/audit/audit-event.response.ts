import { ApiProperty } from '@nestjs/swagger';
import { PRINCIPAL_KINDS, PrincipalKind } from '../common/auth/auth-user';
import type { AuditEvent } from './audit-event.entity';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export const AUDIT_ENTITY_TYPES = [
  'org',
  'membership',
  'invitation',
  'project',
  'task',
  'comment',
  'attachment',
  'api_key',
  'webhook',
] as const;

export class AuditEventResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  id: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  orgId: string;

  @ApiProperty({
    enum: PRINCIPAL_KINDS,
    enumName: 'ActorType',
    description: 'Who acted: a person (`actorId` is a user id) or an org API key (`actorId` is its id)',
  })
  actorType: PrincipalKind;

  @ApiProperty({ type: String, format: 'uuid', maxLength: 36, nullable: true })
  actorId: string | null;

  @ApiProperty({ maxLength: 64, pattern: '^[a-z_]+\\.[a-z_]+$', example: 'task.updated' })
  action: string;

  @ApiProperty({ enum: AUDIT_ENTITY_TYPES, enumName: 'AuditEntityType' })
  entityType: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  entityId: string;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'array', minItems: 2, maxItems: 2, items: {} },
    // An audited resource has at most 7 audited fields (a task's); 32 leaves room to grow.
    maxProperties: 32,
    description:
      '{field: [old, new]} for every field the change touched (null for a field that did not exist before or no longer does)',
    example: { status: ['todo', 'done'] },
  })
  changes: Record<string, [unknown, unknown]>;

  @ApiProperty({ type: String, maxLength: 128, nullable: true, pattern: STRING_PATTERNS.requestId })
  requestId: string | null;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  createdAt: string;

  static from(event: AuditEvent): AuditEventResponse {
    return {
      id: event.id,
      orgId: event.orgId,
      actorType: event.actorType,
      actorId: event.actorId,
      action: event.action,
      entityType: event.entityType,
      entityId: event.entityId,
      changes: event.changes,
      requestId: event.requestId,
      createdAt: event.createdAt.toISOString(),
    };
  }
}
