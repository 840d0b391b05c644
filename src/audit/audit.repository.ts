import { Inject, Injectable } from '@nestjs/common';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Database } from '../database/database';
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

const COLUMNS = `e.id, e.org_id AS "orgId", e.actor_type AS "actorType", e.actor_id AS "actorId", e.action,
  e.entity_type AS "entityType", e.entity_id AS "entityId", e.changes, e.request_id AS "requestId", e.created_at AS "createdAt"`;

/** All SQL for audit_events, an append-only table: rows are inserted and read, never changed. */
@Injectable()
export class AuditRepository {
  private readonly insertText: string;

  constructor(
    private readonly db: Database,
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

  /** A list may lag: a replica that has `readerId`'s writes may serve it. */
  list<Item>(
    readerId: string,
    orgId: string,
    filters: AuditEventFilters,
    page: KeysetPage<AuditEvent, Item>,
  ): Promise<Page<Item>> {
    const values: unknown[] = [orgId];
    const where = ['e.org_id = $1'];
    const equal = (column: string, value: string | undefined): void => {
      if (value !== undefined) where.push(`${column} = $${values.push(value)}`);
    };
    equal('e.entity_type', filters.entityType);
    equal('e.entity_id', filters.entityId);
    equal('e.actor_type', filters.actorType);
    equal('e.actor_id', filters.actorId);
    equal('e.action', filters.action);
    if (filters.since) where.push(`e.created_at >= $${values.push(filters.since)}`);
    if (filters.until) where.push(`e.created_at <= $${values.push(filters.until)}`);
    return this.paginator.pageOfStatement(
      page,
      { select: `SELECT ${COLUMNS} FROM audit_events e`, where, values },
      (s) => this.db.laggingRows<AuditEvent>(readerId, s),
    );
  }
}
