import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { Transaction } from '../database/unit-of-work';
import { AuditEvent } from './audit-event.entity';
import { AUDIT_EVENT_SINK, AuditEventSink } from './audit-event-sink';

export interface AuditEventFilters {
  entityType?: string;
  entityId?: string;
  actorType?: string;
  actorId?: string;
  action?: string;
  since?: string;
  until?: string;
}

export type NewAuditEvent = Pick<
  AuditEvent,
  'orgId' | 'actorType' | 'actorId' | 'action' | 'entityType' | 'entityId' | 'changes' | 'requestId'
>;

export interface InsertedAuditEvent {
  id: string;
  createdAt: Date;
  /** Someone (a webhook of the org) wants this event published (AuditEventSink). */
  wanted: boolean;
}

/** All SQL for audit_events, an append-only table: rows are inserted and read, never changed. */
@Injectable()
export class AuditRepository {
  private readonly insertText: string;

  constructor(
    @InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>,
    private readonly paginator: CursorPaginator,
    @Inject(AUDIT_EVENT_SINK) sink: AuditEventSink,
  ) {
    this.insertText = `INSERT INTO audit_events (org_id, actor_id, action, entity_type, entity_id, changes, request_id, actor_type)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id, created_at AS "createdAt",
                       ${sink.wantedExpression('audit_events.org_id', 'audit_events.action')} AS "wanted"`;
  }

  /**
   * Inserts the event: its id and time, and whether it is wanted published (asked in the same
   * statement, so that an org without webhooks pays no extra one).
   */
  async insert(tx: Transaction, event: NewAuditEvent): Promise<InsertedAuditEvent> {
    const [row] = await tx.rows<InsertedAuditEvent>({
      text: this.insertText,
      values: [
        event.orgId,
        event.actorId,
        event.action,
        event.entityType,
        event.entityId,
        event.changes,
        event.requestId,
        event.actorType,
      ],
    });
    return row;
  }

  list<Item>(orgId: string, filters: AuditEventFilters, page: KeysetPage<AuditEvent, Item>): Promise<Page<Item>> {
    const qb = this.events.createQueryBuilder('e').where('e.org_id = :orgId', { orgId });
    if (filters.entityType) qb.andWhere('e.entity_type = :entityType', { entityType: filters.entityType });
    if (filters.entityId) qb.andWhere('e.entity_id = :entityId', { entityId: filters.entityId });
    if (filters.actorType) qb.andWhere('e.actor_type = :actorType', { actorType: filters.actorType });
    if (filters.actorId) qb.andWhere('e.actor_id = :actorId', { actorId: filters.actorId });
    if (filters.action) qb.andWhere('e.action = :action', { action: filters.action });
    if (filters.since) qb.andWhere('e.created_at >= :since', { since: filters.since });
    if (filters.until) qb.andWhere('e.created_at <= :until', { until: filters.until });
    return this.paginator.page(page, (w) =>
      qb.andWhere(w.where, w.parameters).orderBy(w.order).limit(w.limit).getMany(),
    );
  }
}
