import type { PrincipalKind } from '../common/auth/auth-user';
import type { Transaction } from '../database/unit-of-work';

/**
 * Where every audited change is also published, in its own transaction: the webhooks outbox
 * (contract §19). Declared here and provided from above (WebhookOutboxModule binds
 * AUDIT_EVENT_SINK), so that the audit trail depends on no feature, and the webhooks module may
 * audit its own changes.
 */
export const AUDIT_EVENT_SINK = Symbol('AuditEventSink');

/** An audited change as it is published: the webhook event body. */
export interface PublishedAuditEvent {
  /** The audit event's id. */
  id: string;
  type: string;
  createdAt: string;
  orgId: string;
  actor: { type: PrincipalKind; id: string | null };
  /** The resource as the API returns it; for a deletion its last state. */
  data: unknown;
}

export interface AuditEventSink {
  /**
   * An SQL expression saying whether anyone wants an event of org `orgColumn` and type
   * `actionColumn`: the audit insert returns it, so that an org without listeners pays no extra
   * statement. Column references must be qualified by their table.
   */
  wantedExpression(orgColumn: string, actionColumn: string): string;
  record(tx: Transaction, event: PublishedAuditEvent): Promise<void>;
}
