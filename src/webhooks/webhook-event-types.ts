/**
 * The event types a webhook may subscribe to: the audit actions (contract §12, §16, §18, §19), each
 * delivered when an audited change of that kind commits. `ping` is not among them: it is sent
 * only by the ping route, to the webhook pinged, whatever its `events`.
 */
export const WEBHOOK_EVENT_TYPES = [
  'org.created',
  'org.updated',
  'org.deleted',
  'membership.created',
  'membership.updated',
  'membership.deleted',
  'project.created',
  'project.updated',
  'project.deleted',
  'task.created',
  'task.updated',
  'task.deleted',
  'comment.created',
  'comment.updated',
  'comment.deleted',
  'attachment.created',
  'attachment.deleted',
  'invitation.created',
  'invitation.accepted',
  'invitation.revoked',
  'api_key.created',
  'api_key.revoked',
  'webhook.created',
  'webhook.updated',
  'webhook.deleted',
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Subscribes to every event type, present and future. */
export const ALL_EVENTS = '*';

export const PING_EVENT = 'ping';
