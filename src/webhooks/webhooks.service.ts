import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { Action, requireAccess } from '../access/access-policy';
import type { OrgRole } from '../access/org-roles';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { AuditService, diffChanges } from '../audit/audit.service';
import { CreateWebhookDto, ListDeliveriesQuery, ListWebhooksQuery, UpdateWebhookDto } from './dto/webhook.dto';
import { PING_EVENT } from './webhook-event-types';
import { WebhookDeliveries } from './webhook-deliveries';
import { storedEvent } from './webhook-outbox';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookTargets } from './webhook-target';
import { CreatedWebhookResponse, WebhookDeliveryResponse, WebhookResponse } from './webhook.response';
import { WebhookChanges, WebhookRow, WebhooksRepository } from './webhooks.repository';

type WebhookWithRole = WebhookRow & { callerRole: OrgRole };

/** What the audit trail records of a webhook's changes (never its secret). */
const AUDITED_FIELDS = ['url', 'events', 'description', 'active'] as const;
const DELETED = { url: null, events: null, description: null, active: null };

/**
 * Webhooks (§19): admins of an org subscribe URLs to its events; Tasklane signs and POSTs each
 * event to them (WebhookOutbox records them, WebhookDeliveries sends them). URLs are checked
 * when saved (WebhookTargets) and again at each delivery. The secret is generated here and shown
 * once. Creating, changing and deleting a webhook is audited (`webhook.*`, never the secret).
 * People only: the access matrix refuses API keys every webhook action.
 */
@Injectable()
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly deliveries: WebhookDeliveries,
    private readonly secrets: WebhookSecrets,
    private readonly targets: WebhookTargets,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Admin+, as @OrgAccess('webhook.create') checked. */
  async create(actor: Actor, orgId: string, input: CreateWebhookDto): Promise<CreatedWebhookResponse> {
    const url = await this.checkedUrl(input.url);
    const secret = this.secrets.generate();
    return this.unitOfWork.run(async (tx) => {
      const webhook = await this.webhooks.insert(tx, {
        orgId,
        url,
        events: input.events,
        description: input.description ?? '',
        active: input.active ?? true,
        secretSealed: this.secrets.seal(secret),
      });
      const response = WebhookResponse.from(webhook);
      await this.audit.record(tx, actor, {
        orgId,
        action: 'webhook.created',
        entityType: 'webhook',
        entityId: webhook.id,
        changes: diffChanges({}, response, AUDITED_FIELDS),
        data: response, // never the secret: it is in the 201 alone
      });
      return { ...response, secret };
    });
  }

  /** Admin+, as @OrgAccess('webhook.read') checked. Newest first. */
  list(orgId: string, query: ListWebhooksQuery): Promise<Page<WebhookResponse>> {
    return this.webhooks.list(
      orgId,
      inCreationOrder('w', listScope('webhooks', { orgId }), 'DESC', WebhookResponse.from, query),
    );
  }

  async get(principal: Principal, webhookId: string): Promise<WebhookResponse> {
    return WebhookResponse.from(await this.readable(principal, webhookId, 'webhook.read'));
  }

  /** PATCH (admin+ of its org), with If-Match checked under the row lock; a new URL is checked first. */
  async update(
    actor: Actor,
    webhookId: string,
    input: UpdateWebhookDto,
    expected: ExpectedVersions,
  ): Promise<WebhookResponse> {
    let url: string | undefined;
    if (input.url !== undefined) {
      // Access first: resolving a name is work (and an answer) only for those who may change the webhook.
      await this.readable(actor, webhookId, 'webhook.update');
      url = await this.checkedUrl(input.url);
    }
    return this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, webhookId, 'webhook.update', expected);
      const changes = changed(current, { ...input, url });
      if (Object.keys(changes).length === 0) return WebhookResponse.from(current);
      const updated = WebhookResponse.from(await this.webhooks.update(tx, webhookId, changes));
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'webhook.updated',
        entityType: 'webhook',
        entityId: webhookId,
        changes: diffChanges(current, changes, AUDITED_FIELDS),
        data: updated,
      });
      return updated;
    });
  }

  /** Admin+ of its org; its deliveries go with it (jobs still queued for them then do nothing). */
  async delete(actor: Actor, webhookId: string, expected: ExpectedVersions): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, webhookId, 'webhook.delete', expected);
      await this.webhooks.delete(tx, webhookId);
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'webhook.deleted',
        entityType: 'webhook',
        entityId: webhookId,
        changes: diffChanges(current, DELETED, AUDITED_FIELDS),
        data: WebhookResponse.from(current),
      });
    });
  }

  /** The delivery log, newest first (admin+ of its org). */
  async listDeliveries(
    principal: Principal,
    webhookId: string,
    query: ListDeliveriesQuery,
  ): Promise<Page<WebhookDeliveryResponse>> {
    await this.readable(principal, webhookId, 'webhook.read');
    return this.webhooks.listDeliveries(
      webhookId,
      inCreationOrder('d', listScope('webhook-deliveries', { webhookId }), 'DESC', WebhookDeliveryResponse.from, query),
    );
  }

  /** Sends a delivery's event again, as a new delivery (same event id, same body). */
  async redeliver(actor: Actor, webhookId: string, deliveryId: string): Promise<WebhookDeliveryResponse> {
    return this.unitOfWork.run(async (tx) => {
      await this.deliverable(tx, actor, webhookId);
      const delivery = await this.webhooks.redeliver(tx, webhookId, deliveryId);
      if (!delivery) throw ApiException.notFound('Delivery');
      await this.deliveries.schedule(tx, [delivery.id]);
      return WebhookDeliveryResponse.from(delivery);
    });
  }

  /** Sends a `ping` event (its data: the webhook) to this webhook only. */
  async ping(actor: Actor, webhookId: string): Promise<WebhookDeliveryResponse> {
    return this.unitOfWork.run(async (tx) => {
      const webhook = await this.deliverable(tx, actor, webhookId);
      const event = storedEvent({
        id: randomUUID(),
        type: PING_EVENT,
        createdAt: new Date().toISOString(),
        orgId: webhook.orgId,
        actor: { type: actor.kind, id: actor.id },
        data: WebhookResponse.from(webhook),
      });
      const delivery = await this.webhooks.recordPing(tx, webhookId, event);
      await this.deliveries.schedule(tx, [delivery.id]);
      return WebhookDeliveryResponse.from(delivery);
    });
  }

  /** The URL as it will be stored (normalized), or a 400 naming `url`. */
  private async checkedUrl(text: string): Promise<string> {
    const { url, problem } = await this.targets.check(text);
    if (!url || problem) throw ApiException.invalidField('url', problem ?? 'url is invalid');
    return url.href;
  }

  /** The webhook, for a principal allowed `action` on it (not a member → 404); locked when in `tx`. */
  private async readable(
    principal: Principal,
    webhookId: string,
    action: Action,
    tx?: Transaction,
  ): Promise<WebhookWithRole> {
    const webhook = await this.webhooks.findForPrincipal(principal, webhookId, tx);
    if (!webhook) throw ApiException.notFound('Webhook');
    requireAccess(principal, action, { role: webhook.callerRole });
    return webhook;
  }

  private async lockForChange(
    tx: Transaction,
    principal: Principal,
    webhookId: string,
    action: 'webhook.update' | 'webhook.delete',
    expected: ExpectedVersions,
  ): Promise<WebhookWithRole> {
    const current = await this.readable(principal, webhookId, action, tx);
    if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
    return current;
  }

  /** The webhook, locked, for a principal allowed to send to it; 409 when it is inactive. */
  private async deliverable(tx: Transaction, principal: Principal, webhookId: string): Promise<WebhookWithRole> {
    const webhook = await this.readable(principal, webhookId, 'webhook.deliver', tx);
    if (!webhook.active) throw ApiException.conflict('This webhook is inactive: activate it to send to it');
    return webhook;
  }
}

/** The fields of `input` that differ from `current`. */
function changed(current: WebhookRow, input: WebhookChanges): WebhookChanges {
  const changes: WebhookChanges = {};
  if (input.url !== undefined && input.url !== current.url) changes.url = input.url;
  if (input.events !== undefined && input.events.join('\n') !== current.events.join('\n'))
    changes.events = input.events;
  if (input.description !== undefined && input.description !== current.description) {
    changes.description = input.description;
  }
  if (input.active !== undefined && input.active !== current.active) changes.active = input.active;
  return changes;
}
