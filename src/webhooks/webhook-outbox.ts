import { Injectable } from '@nestjs/common';
import type { AuditEventSink, PublishedAuditEvent } from '../audit/audit-event-sink';
import type { Transaction } from '../database/unit-of-work';
import { hasSubscribers } from './webhook-subscriptions';
import { WebhookDeliveries } from './webhook-deliveries';
import { NewEvent, WebhooksRepository } from './webhooks.repository';

/**
 * An event as webhooks receive it (the request body, contract §19): an audited change as the
 * audit trail publishes it, or a ping (whose id is its own).
 */
export type WebhookEventBody = PublishedAuditEvent;

/**
 * The webhooks outbox: `record` stores an event and a pending delivery to each subscribed
 * webhook in the transaction of the change (nothing for a change that rolls back, nothing lost
 * once it commits), with the first attempt's job; workers deliver after the commit. The body is
 * serialized here, once: every attempt sends these bytes.
 */
@Injectable()
export class WebhookOutbox implements AuditEventSink {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: WebhookDeliveries,
  ) {}

  wantedExpression(orgColumn: string, actionColumn: string): string {
    return hasSubscribers(orgColumn, actionColumn);
  }

  async record(tx: Transaction, event: WebhookEventBody): Promise<void> {
    const deliveryIds = await this.webhooks.recordEvent(tx, storedEvent(event));
    await this.deliveries.schedule(tx, deliveryIds);
  }
}

/** The event as stored: its body serialized once, in the documented order of its fields. */
export function storedEvent(event: WebhookEventBody): NewEvent {
  const body: WebhookEventBody = {
    id: event.id,
    type: event.type,
    createdAt: event.createdAt,
    orgId: event.orgId,
    actor: { type: event.actor.type, id: event.actor.id },
    data: event.data ?? null,
  };
  return { id: body.id, orgId: body.orgId, type: body.type, payload: JSON.stringify(body), createdAt: body.createdAt };
}
