import { ApiProperty } from '@nestjs/swagger';
import { versioned, VersionedResponse } from '../common/http/versioned.response';
import { ALL_EVENTS, PING_EVENT, WEBHOOK_EVENT_TYPES } from './webhook-event-types';
import { DELIVERY_STATUSES, DeliveryStatus } from './webhook-delivery.entity';
import { MAX_WEBHOOK_URL_LENGTH } from './webhook-target';
import type { DeliveryRow, WebhookRow } from './webhooks.repository';
import { STRING_PATTERNS } from '../common/swagger/string-formats';
import { NullableInstantProperty } from '../common/swagger/instant-property';

export class WebhookResponse extends VersionedResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: '5a7c9e1b-2d4f-4b6a-8c0e-1f3a5b7d9e2c' })
  orgId: string;

  @ApiProperty({ format: 'uri', maxLength: MAX_WEBHOOK_URL_LENGTH, example: 'https://hooks.example.com/tasklane' })
  url: string;

  @ApiProperty({
    type: [String],
    minItems: 1,
    maxItems: WEBHOOK_EVENT_TYPES.length,
    items: { type: 'string', enum: [ALL_EVENTS, ...WEBHOOK_EVENT_TYPES], maxLength: 32 },
    example: ['task.created', 'task.updated'],
  } as never)
  events: string[];

  @ApiProperty({ maxLength: 500, pattern: STRING_PATTERNS.text, example: 'Sync tasks to our tracker' })
  description: string;

  @ApiProperty({
    example: true,
    description: 'Inactive webhooks receive nothing (deliveries due meanwhile are marked failed)',
  })
  active: boolean;

  static from(row: WebhookRow): WebhookResponse {
    return versioned(row, {
      orgId: row.orgId,
      url: row.url,
      events: row.events,
      description: row.description,
      active: row.active,
    });
  }
}

/** The 201 of a creation: the webhook and, this once only, its signing secret. */
export class CreatedWebhookResponse extends WebhookResponse {
  @ApiProperty({
    minLength: 50,
    maxLength: 50,
    pattern: '^whsec_[A-Za-z0-9+/]{43}=$',
    example: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw/Ks9Ru+7NHs=',
    description:
      'The signing secret (Standard Webhooks `whsec_` + base64 of 32 bytes). Shown only in this response: keep it to verify `webhook-signature`.',
  })
  secret: string;
}

export class WebhookDeliveryResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36, example: '6e1a3c5f-9b7d-4e2a-8f4c-1d3b5a7c9e06' })
  id: string;

  @ApiProperty({
    format: 'uuid',
    maxLength: 36,
    example: '7f2b4d6a-0c8e-4a1b-9d3f-5e7a9c1b3d28',
    description: 'The event delivered: its `id` and `webhook-id` header',
  })
  eventId: string;

  @ApiProperty({ enum: [PING_EVENT, ...WEBHOOK_EVENT_TYPES], enumName: 'WebhookEventType', example: 'task.created' })
  eventType: string;

  @ApiProperty({
    enum: DELIVERY_STATUSES,
    enumName: 'WebhookDeliveryStatus',
    example: 'pending',
    description: '`pending` until an attempt succeeds (`succeeded`) or the last retry fails (`failed`)',
  })
  status: DeliveryStatus;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 0,
    maximum: 100,
    example: 1,
    description: 'Attempts made so far',
  })
  attempts: number;

  @ApiProperty({
    type: 'integer',
    format: 'int32',
    minimum: 100,
    maximum: 599,
    nullable: true,
    example: null,
    description: 'The HTTP status of the last answer (null: none, e.g. a timeout)',
  })
  lastStatusCode: number | null;

  @ApiProperty({
    type: 'string',
    maxLength: 100,
    pattern: STRING_PATTERNS.text,
    nullable: true,
    example: 'timeout',
    description:
      'Why the last attempt failed, in a few words: `HTTP 500`, `timeout`, `connection refused`, `redirect not followed`, `target refused: private address`, `webhook inactive`…',
  })
  lastError: string | null;

  @NullableInstantProperty(
    'When the next attempt is due (the first: at creation; null once settled)',
    '2026-11-23T10:00:40.000Z',
  )
  nextAttemptAt: string | null;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:00.000Z' })
  createdAt: string;

  @ApiProperty({ format: 'date-time', maxLength: 30, example: '2026-11-23T10:00:10.000Z' })
  updatedAt: string;

  static from(row: DeliveryRow): WebhookDeliveryResponse {
    return {
      id: row.id,
      eventId: row.eventId,
      eventType: row.eventType,
      status: row.status,
      attempts: row.attempts,
      lastStatusCode: row.lastStatusCode,
      lastError: row.lastError,
      nextAttemptAt: row.nextAttemptAt?.toISOString() ?? null,
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }
}

export class WebhookEventActor {
  @ApiProperty({ enum: ['user', 'apiKey'], enumName: 'ActorType', example: 'user' })
  type: 'user' | 'apiKey';

  @ApiProperty({
    format: 'uuid',
    maxLength: 36,
    example: '8e2f4a6c-1b3d-4e5f-9a7b-0c2d4e6f8a1b',
    description: 'The user or API key that made the change',
  })
  id: string;
}

/**
 * What Tasklane POSTs to a webhook's URL (documented as a schema: OpenAPI 3.0 has no `webhooks`).
 */
export class WebhookEvent {
  @ApiProperty({
    format: 'uuid',
    maxLength: 36,
    example: '7f2b4d6a-0c8e-4a1b-9d3f-5e7a9c1b3d28',
    description: 'Equal to the `webhook-id` header, on every retry and redelivery',
  })
  id: string;

  @ApiProperty({ enum: [PING_EVENT, ...WEBHOOK_EVENT_TYPES], enumName: 'WebhookEventType', example: 'task.updated' })
  type: string;

  @ApiProperty({
    format: 'date-time',
    maxLength: 30,
    example: '2026-11-23T10:00:00.000Z',
    description: 'When the change happened',
  })
  createdAt: string;

  @ApiProperty({ format: 'uuid', maxLength: 36, example: '5a7c9e1b-2d4f-4b6a-8c0e-1f3a5b7d9e2c' })
  orgId: string;

  @ApiProperty({ type: WebhookEventActor })
  actor: WebhookEventActor;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description:
      'The resource as the API returns it (a task for `task.*`, a member for `membership.*`…); for a deletion its last state; for `ping` the webhook',
    example: { id: '7c1e2f4a-0b7d-4c55-9a1e-3f0a2b4c6d8e', title: 'Fix the login page', status: 'todo', version: 2 },
  })
  data: Record<string, unknown>;
}

/** The delivery headers, for the OpenAPI description and docs/webhooks.md. */
export const WEBHOOK_HEADERS_DESCRIPTION = `Each delivery is a \`POST\` with \`Content-Type: application/json\`, a \`WebhookEvent\` body, and the [Standard Webhooks](https://www.standardwebhooks.com/) headers:

- \`webhook-id\`: the event id (the body's \`id\`), the same on every retry and redelivery: deduplicate on it;
- \`webhook-timestamp\`: when this attempt was signed, in Unix seconds;
- \`webhook-signature\`: \`v1,\` and the base64 HMAC-SHA256 of \`{webhook-id}.{webhook-timestamp}.{body}\`, keyed with the base64-decoded part of the secret after \`whsec_\`.

Answer 2xx within 10 s. Anything else (another status, a redirect, a timeout, a refused connection) is retried after 30 s, 2 min, 10 min, 30 min, 1 h, 2 h, 4 h, 8 h, 8 h and 8 h (11 attempts over about 32 h; the delays scale with WEBHOOK_RETRY_DELAY_SECONDS). Delivery is at least once; redirects are not followed.`;
