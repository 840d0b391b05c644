import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor } from '../common/auth/auth-user';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { AuditEvent } from './audit-event.entity';
import { AuditEventResponse } from './audit-event.response';
import { ListAuditEventsQuery } from './dto/list-audit-events.query';

export type AuditEntity = 'org' | 'membership' | 'project' | 'task' | 'comment' | 'attachment';
export type Changes = Record<string, [unknown, unknown]>;

export interface AuditRecord {
  orgId: string;
  action: string;
  entityType: AuditEntity;
  entityId: string;
  changes: Changes;
}

const comparable = (value: unknown): string => JSON.stringify(value instanceof Date ? value.toISOString() : value);

/**
 * `{field: [old, new]}` for the fields that differ. A field missing from `after` is unchanged
 * (PATCH); a create passes `before` = {}, a delete `after` with every field set to null.
 */
export function diffChanges(before: object, after: object, fields: readonly string[]): Changes {
  const changes: Changes = {};
  for (const field of fields) {
    const old = (before as Record<string, unknown>)[field] ?? null;
    const next = field in after ? ((after as Record<string, unknown>)[field] ?? null) : old;
    if (comparable(old) !== comparable(next)) changes[field] = [old, next];
  }
  return changes;
}

/**
 * The audit trail. `record` takes the transaction of the change itself, so that a change that
 * fails leaves no event and an event never describes a change that did not happen.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly paginator: CursorPaginator,
  ) {}

  async record(manager: EntityManager, actor: Actor, event: AuditRecord): Promise<void> {
    await manager.query(
      `INSERT INTO audit_events (org_id, actor_id, action, entity_type, entity_id, changes, request_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [event.orgId, actor.userId, event.action, event.entityType, event.entityId, event.changes, actor.requestId],
    );
  }

  list(orgId: string, query: ListAuditEventsQuery): Promise<Page<AuditEventResponse>> {
    const qb = this.dataSource.createQueryBuilder(AuditEvent, 'e').where('e.org_id = :orgId', { orgId });
    if (query.entityType) qb.andWhere('e.entity_type = :entityType', { entityType: query.entityType });
    if (query.entityId) qb.andWhere('e.entity_id = :entityId', { entityId: query.entityId });
    if (query.actorId) qb.andWhere('e.actor_id = :actorId', { actorId: query.actorId });
    if (query.action) qb.andWhere('e.action = :action', { action: query.action });
    if (query.since) qb.andWhere('e.created_at >= :since', { since: query.since });
    if (query.until) qb.andWhere('e.created_at <= :until', { until: query.until });
    const { limit, cursor, ...filters } = query;
    return this.paginator.paginate(qb, {
      scope: listScope('audit-events', { orgId, ...filters }),
      sortColumn: 'e.created_at',
      idColumn: 'e.id',
      direction: 'DESC',
      position: (e) => [e.createdAt.toISOString(), e.id],
      map: AuditEventResponse.from,
      limit,
      cursor,
    });
  }
}
