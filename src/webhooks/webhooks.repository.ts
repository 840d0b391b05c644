import { Injectable } from '@nestjs/common';
import { joinMembership } from '../access/membership-lookup';
import type { OrgRole } from '../access/org-roles';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import type { DeliveryStatus } from './webhook-delivery.entity';
import { subscribedTo } from './webhook-subscriptions';

export interface WebhookRow {
  id: string;
  orgId: string;
  url: string;
  events: string[];
  description: string;
  active: boolean;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export interface DeliveryRow {
  id: string;
  eventId: string;
  eventType: string;
  status: DeliveryStatus;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** What a delivery job needs: the delivery's state, its webhook's target and secret, the body. */
export interface DeliveryToSend {
  status: DeliveryStatus;
  attempts: number;
  webhookId: string;
  eventId: string;
  active: boolean;
  url: string;
  secretSealed: string;
  payload: string;
}

export interface NewEvent {
  id: string;
  orgId: string;
  type: string;
  payload: string;
  createdAt: string;
}

/** How an attempt ends for its delivery: still pending (with the next attempt's delay), or settled. */
export interface AttemptRecord {
  status: DeliveryStatus;
  statusCode: number | null;
  error: string | null;
  retryInSeconds: number | null;
  succeeded: boolean;
}

export type WebhookChanges = Partial<Pick<WebhookRow, 'url' | 'events' | 'description' | 'active'>>;

const COLUMNS = `w.id, w.org_id AS "orgId", w.url, w.events, w.description, w.active,
  w.created_at AS "createdAt", w.updated_at AS "updatedAt", w.version`;
const DELIVERY_COLUMNS = `d.id, d.event_id AS "eventId", e.type AS "eventType", d.status, d.attempts,
  d.last_status_code AS "lastStatusCode", d.last_error AS "lastError", d.next_attempt_at AS "nextAttemptAt",
  d.created_at AS "createdAt", d.updated_at AS "updatedAt"`;
const CHANGEABLE: Record<keyof WebhookChanges, string> = {
  url: 'url',
  events: 'events',
  description: 'description',
  active: 'active',
};

/** All SQL for webhooks, webhook_events and webhook_deliveries. */
@Injectable()
export class WebhooksRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  async insert(
    tx: Transaction,
    webhook: Omit<WebhookChanges, 'active'> & {
      orgId: string;
      url: string;
      events: string[];
      active: boolean;
      secretSealed: string;
    },
  ): Promise<WebhookRow> {
    const [row] = await tx.rows<WebhookRow>({
      text: `INSERT INTO webhooks AS w (org_id, url, events, description, active, secret_sealed)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      values: [
        webhook.orgId,
        webhook.url,
        webhook.events,
        webhook.description ?? '',
        webhook.active,
        webhook.secretSealed,
      ],
    });
    return row;
  }

  list<Item>(orgId: string, page: KeysetPage<WebhookRow, Item>): Promise<Page<Item>> {
    return this.paginator.pageOfStatement(
      page,
      { select: `SELECT ${COLUMNS} FROM webhooks w`, where: ['w.org_id = $1'], values: [orgId] },
      (s) => this.db.rows<WebhookRow>(s),
    );
  }

  /**
   * The webhook and the principal's role in its org; none when either is missing. Locked when in
   * `tx` — FOR NO KEY UPDATE, which the deliveries' foreign key checks (KEY SHARE) do not wait
   * for: audited changes of the org go on while its webhook is being changed.
   */
  async findForPrincipal(
    principal: Principal,
    webhookId: string,
    tx?: Transaction,
  ): Promise<(WebhookRow & { callerRole: OrgRole }) | undefined> {
    const statement = {
      text: `SELECT ${COLUMNS}, m.role AS "callerRole" FROM webhooks w ${joinMembership('w.org_id', '$2')}
              WHERE w.id = $1${tx ? ' FOR NO KEY UPDATE OF w' : ''}`,
      values: [webhookId, principal.id],
    };
    const [row] = tx
      ? await tx.rows<WebhookRow & { callerRole: OrgRole }>(statement)
      : await this.db.rows<WebhookRow & { callerRole: OrgRole }>(statement);
    return row;
  }

  async update(tx: Transaction, webhookId: string, changes: WebhookChanges): Promise<WebhookRow> {
    const values: unknown[] = [webhookId];
    const sets = Object.entries(changes)
      .filter(([, value]) => value !== undefined)
      .map(([field, value]) => `${CHANGEABLE[field as keyof WebhookChanges]} = $${values.push(value)}`);
    const [row] = await tx.rows<WebhookRow>({
      text: `UPDATE webhooks w SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')}
              WHERE id = $1 RETURNING ${COLUMNS}`,
      values,
    });
    return row;
  }

  async delete(tx: Transaction, webhookId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM webhooks WHERE id = $1', values: [webhookId] });
  }

  /**
   * Records an event and a pending delivery of it to each of the org's active webhooks that
   * subscribe to its type, in one statement: the ids of the deliveries (none when no webhook
   * wants it, and then no event row either).
   */
  async recordEvent(tx: Transaction, event: NewEvent): Promise<string[]> {
    const rows = await tx.rows<{ id: string }>({
      text: `WITH subscribers AS (SELECT w.id FROM webhooks w WHERE ${subscribedTo('$2::uuid', '$3::text')}),
             e AS (
               INSERT INTO webhook_events (id, org_id, type, payload, created_at)
               SELECT $1::uuid, $2::uuid, $3::text, $4::text, $5::timestamptz WHERE EXISTS (SELECT 1 FROM subscribers) RETURNING id
             )
             INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at)
             SELECT s.id, e.id, now() FROM subscribers s, e RETURNING id`,
      values: [event.id, event.orgId, event.type, event.payload, event.createdAt],
    });
    return rows.map((row) => row.id);
  }

  /** Records a ping of one webhook and its delivery. */
  async recordPing(tx: Transaction, webhookId: string, event: NewEvent): Promise<DeliveryRow> {
    const [row] = await tx.rows<DeliveryRow>({
      text: `WITH e AS (
               INSERT INTO webhook_events (id, org_id, type, payload, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id, type
             ), d AS (
               INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at) SELECT $6::uuid, e.id, now() FROM e RETURNING *
             )
             SELECT ${DELIVERY_COLUMNS} FROM d JOIN e ON e.id = d.event_id`,
      values: [event.id, event.orgId, event.type, event.payload, event.createdAt, webhookId],
    });
    return row;
  }

  /** A new delivery of a delivery's event to the same webhook; none if that delivery is not the webhook's. */
  async redeliver(tx: Transaction, webhookId: string, deliveryId: string): Promise<DeliveryRow | undefined> {
    const [row] = await tx.rows<DeliveryRow>({
      text: `WITH d AS (
               INSERT INTO webhook_deliveries (webhook_id, event_id, next_attempt_at)
               SELECT webhook_id, event_id, now() FROM webhook_deliveries WHERE id = $1 AND webhook_id = $2 RETURNING *
             )
             SELECT ${DELIVERY_COLUMNS} FROM d JOIN webhook_events e ON e.id = d.event_id`,
      values: [deliveryId, webhookId],
    });
    return row;
  }

  /** The webhook's deliveries, newest first. */
  listDeliveries<Item>(webhookId: string, page: KeysetPage<DeliveryRow, Item>): Promise<Page<Item>> {
    const select = `SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`;
    return this.paginator.pageOfStatement(page, { select, where: ['d.webhook_id = $1'], values: [webhookId] }, (s) =>
      this.db.rows<DeliveryRow>(s),
    );
  }

  async deliveryToSend(deliveryId: string): Promise<DeliveryToSend | undefined> {
    const [row] = await this.db.rows<DeliveryToSend>({
      text: `SELECT d.status, d.attempts, d.webhook_id AS "webhookId", d.event_id AS "eventId", w.active, w.url,
                    w.secret_sealed AS "secretSealed", e.payload
               FROM webhook_deliveries d
               JOIN webhooks w ON w.id = d.webhook_id
               JOIN webhook_events e ON e.id = d.event_id
              WHERE d.id = $1`,
      values: [deliveryId],
    });
    return row;
  }

  /**
   * Records attempt number `attempt` (0-based) of a pending delivery, if no other run has recorded
   * it already: false when one has (a job worked twice). The webhook's row is locked first,
   * in the order a deletion of the webhook locks them (no deadlock).
   */
  async recordAttempt(
    tx: Transaction,
    delivery: { id: string; webhookId: string; attempt: number },
    outcome: AttemptRecord,
  ): Promise<boolean> {
    await tx.affected({
      text: `UPDATE webhooks SET consecutive_failures = CASE WHEN $2 THEN 0 ELSE consecutive_failures + 1 END
              WHERE id = $1 AND EXISTS (SELECT 1 FROM webhook_deliveries WHERE id = $3 AND attempts = $4 AND status = 'pending')`,
      values: [delivery.webhookId, outcome.succeeded, delivery.id, delivery.attempt],
    });
    const recorded = await tx.affected({
      text: `UPDATE webhook_deliveries
                SET attempts = attempts + 1, status = $3, last_status_code = $4, last_error = $5,
                    next_attempt_at = CASE WHEN $6::float8 IS NULL THEN NULL ELSE now() + make_interval(secs => $6::float8) END,
                    updated_at = now()
              WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      values: [
        delivery.id,
        delivery.attempt,
        outcome.status,
        outcome.statusCode,
        outcome.error,
        outcome.retryInSeconds,
      ],
    });
    return recorded > 0;
  }

  /** A pending delivery given up without an attempt (its webhook is inactive, or its secret unreadable). */
  async settleUnsent(deliveryId: string, attempt: number, error: string): Promise<void> {
    await this.db.rows({
      text: `UPDATE webhook_deliveries SET status = 'failed', last_error = $3, next_attempt_at = NULL, updated_at = now()
              WHERE id = $1 AND attempts = $2 AND status = 'pending'`,
      values: [deliveryId, attempt, error],
    });
  }

  /** Active webhooks whose last `threshold` attempts or more all failed. */
  async countFailing(threshold: number): Promise<number> {
    const [row] = await this.db.rows<{ count: number }>({
      text: 'SELECT count(*)::int AS count FROM webhooks WHERE active AND consecutive_failures >= $1',
      values: [threshold],
    });
    return row.count;
  }
}
