import { Inject, Injectable } from '@nestjs/common';
import type { Actor, Principal } from '../common/auth/auth-user';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { Transaction } from '../database/unit-of-work';
import { AUDIT_EVENT_SINK, AuditEventSink } from './audit-event-sink';
import { AUDIT_ENTITY_TYPES, AuditEventResponse } from './audit-event.response';
import { AuditRepository } from './audit.repository';
import { ListAuditEventsQuery } from './dto/list-audit-events.query';

export type AuditEntity = (typeof AUDIT_ENTITY_TYPES)[number];
export type Changes = Record<string, [unknown, unknown]>;

export interface AuditRecord {
  orgId: string;
  action: string;
  entityType: AuditEntity;
  entityId: string;
  changes: Changes;
  /**
   * The resource as the API returns it (for a deletion, its last state): the `data` of the
   * webhook event this change sends (contract §19). A function is called only when a webhook
   * subscribes to the event: for data that costs a read.
   */
  data?: unknown | (() => Promise<unknown>);
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
 * fails leaves no event and an event never describes a change that did not happen. Each event is
 * also the webhook event of the change (contract §19): the AuditEventSink (the webhooks outbox)
 * records it in the same transaction when a webhook of the org subscribes to it.
 */
@Injectable()
export class AuditService {
  constructor(
    private readonly events: AuditRepository,
    @Inject(AUDIT_EVENT_SINK) private readonly published: AuditEventSink,
  ) {}

  /** Also the webhook event of the change, to the org's webhooks that subscribe to it, in the same transaction. */
  async record(tx: Transaction, actor: Actor, event: AuditRecord): Promise<void> {
    const { data, ...audited } = event;
    const inserted = await this.events.insert(tx, {
      ...audited,
      actorType: actor.kind,
      actorId: actor.id,
      requestId: actor.requestId,
    });
    if (!inserted.wanted) return;
    await this.published.record(tx, {
      id: inserted.id,
      type: event.action,
      createdAt: inserted.createdAt.toISOString(),
      orgId: event.orgId,
      actor: { type: actor.kind, id: actor.id },
      data: typeof data === 'function' ? await (data as () => Promise<unknown>)() : data,
    });
  }

  /** Admin+, as @OrgAccess('audit.read') checked. Newest first. */
  list(reader: Principal, orgId: string, query: ListAuditEventsQuery): Promise<Page<AuditEventResponse>> {
    const { limit, cursor, ...filters } = query;
    return this.events.list(
      reader.id,
      orgId,
      filters,
      inCreationOrder('e', listScope('audit-events', { orgId, ...filters }), 'DESC', AuditEventResponse.from, {
        limit,
        cursor,
      }),
    );
  }
}
