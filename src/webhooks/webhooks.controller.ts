import { Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Patch, Post, Query } from '@nestjs/common';
import { ApiExtraModels, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { UuidParam } from '../common/http/uuid-param';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { CreateWebhookDto, ListDeliveriesQuery, ListWebhooksQuery, UpdateWebhookDto } from './dto/webhook.dto';
import {
  CreatedWebhookResponse,
  WebhookDeliveryResponse,
  WebhookEvent,
  WebhookResponse,
  WEBHOOK_HEADERS_DESCRIPTION,
} from './webhook.response';
import { WebhooksService } from './webhooks.service';

/** What your server receives at the webhook's URL: documented as the subscription's callback. */
const WEBHOOK_DELIVERY = {
  summary: 'An event, delivered to your URL',
  description: WEBHOOK_HEADERS_DESCRIPTION,
  operationId: 'receiveWebhookEvent',
  tags: ['webhooks'],
  parameters: [
    {
      name: 'webhook-id',
      in: 'header' as const,
      required: true,
      description: 'The event id (the body’s `id`): the same on every retry and redelivery',
      schema: { type: 'string', format: 'uuid', maxLength: 36 },
    },
    {
      name: 'webhook-timestamp',
      in: 'header' as const,
      required: true,
      description: 'When this attempt was signed, in Unix seconds',
      schema: { type: 'string', pattern: '^[0-9]{1,12}$', maxLength: 12 },
    },
    {
      name: 'webhook-signature',
      in: 'header' as const,
      required: true,
      description: '`v1,` and the base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}`',
      schema: { type: 'string', pattern: '^v1,[A-Za-z0-9+/]+={0,2}$', maxLength: 256 },
    },
  ],
  requestBody: {
    required: true,
    content: { 'application/json': { schema: { $ref: getSchemaPath(WebhookEvent) } } },
  },
  // Your server checks the signature: Tasklane sends no credentials of its own.
  security: [{}],
  responses: {
    '2XX': { description: 'Received: any 2xx within 10 s' },
    '4XX': { description: 'Refused: retried as any answer other than a 2xx is' },
    '5XX': { description: 'Failed: retried' },
  },
};

const SENT = 'Queued: sent after this response, retried as described under the `WebhookEvent` schema';

@ApiTags('webhooks')
@ApiExtraModels(WebhookEvent)
@ApiErrors(400)
@Controller()
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Get('orgs/:orgId/webhooks')
  @OrgAccess('webhook.read')
  @ApiOperation({
    summary: "The organization's webhooks, newest first (admin+)",
    description:
      'Admins and owners, people only (API keys get 403). Paged by cursor; the signing secrets are never shown again.',
  })
  @ApiListEnvelope(WebhookResponse)
  @ApiErrors(403, 404)
  list(@CurrentMembership() caller: Membership, @Query() query: ListWebhooksQuery): Promise<Page<WebhookResponse>> {
    return this.webhooks.list(caller.orgId, query);
  }

  @Post('orgs/:orgId/webhooks')
  @OrgAccess('webhook.create')
  @Header('Cache-Control', 'no-store') // the secret, shown this once
  @Created((webhook: WebhookResponse) => apiPath('webhooks', webhook.id))
  @ApiOperation({
    summary: "Subscribe a URL to the organization's events (admin+)",
    description: `The response holds the signing secret (\`data.secret\`), shown only this once. \`url\` is refused (400) when it is not http(s), carries credentials, or — with WEBHOOK_ALLOW_PRIVATE_TARGETS=false, the production default — is not https or its host is, or resolves to, a private, loopback, link-local or otherwise non-public address.\n\n${WEBHOOK_HEADERS_DESCRIPTION}`,
    callbacks: { event: { '{$request.body#/url}': { post: WEBHOOK_DELIVERY } } },
  })
  @ApiEnvelope(CreatedWebhookResponse, HttpStatus.CREATED, 'Created; Location points at the webhook')
  @ApiErrors(403, 404)
  create(
    @CurrentActor() actor: Actor,
    @CurrentMembership() caller: Membership,
    @Body() body: CreateWebhookDto,
  ): Promise<CreatedWebhookResponse> {
    return this.webhooks.create(actor, caller.orgId, body);
  }

  @Get('webhooks/:webhookId')
  @ApiOperation({
    summary: 'A webhook (admin+ of its organization; the secret is never shown again)',
    description:
      "Admins and owners of the webhook's organization, people only (API keys get 403). 404 if you are not a member of that organization; 403 for members and viewers.",
  })
  @ApiEnvelope(WebhookResponse)
  @ApiErrors(403, 404)
  get(@CurrentActor() actor: Actor, @UuidParam('webhookId') webhookId: string): Promise<WebhookResponse> {
    return this.webhooks.get(actor, webhookId);
  }

  @Patch('webhooks/:webhookId')
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Change some of url, events, description and active (admin+ of its organization)',
    description:
      'A new `url` is checked as on creation. Deactivating stops deliveries, those waiting for a retry included.',
  })
  @ApiEnvelope(WebhookResponse)
  @ApiErrors(403, 404)
  update(
    @CurrentActor() actor: Actor,
    @UuidParam('webhookId') webhookId: string,
    @Body() body: UpdateWebhookDto,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<WebhookResponse> {
    return this.webhooks.update(actor, webhookId, body, expected);
  }

  @Delete('webhooks/:webhookId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ConditionalWrite()
  @ApiOperation({
    summary: 'Delete a webhook and its delivery log (admin+ of its organization)',
    description:
      'Admins and owners of its organization, people only (API keys get 403). Nothing more is sent to it, retries included. `If-Match` applies (412). Audited (and sent to subscribed webhooks) as `webhook.deleted`.',
  })
  @ApiNoContent('Deleted')
  @ApiErrors(403, 404)
  async remove(
    @CurrentActor() actor: Actor,
    @UuidParam('webhookId') webhookId: string,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<void> {
    await this.webhooks.delete(actor, webhookId, expected);
  }

  @Get('webhooks/:webhookId/deliveries')
  @ApiOperation({
    summary: "The webhook's deliveries, newest first (admin+ of its organization)",
    description: 'One per event sent to it (a redelivery is a new one): its status, attempts and the last outcome.',
  })
  @ApiListEnvelope(WebhookDeliveryResponse)
  @ApiErrors(403, 404)
  listDeliveries(
    @CurrentActor() actor: Actor,
    @UuidParam('webhookId') webhookId: string,
    @Query() query: ListDeliveriesQuery,
  ): Promise<Page<WebhookDeliveryResponse>> {
    return this.webhooks.listDeliveries(actor, webhookId, query);
  }

  @Post('webhooks/:webhookId/deliveries/:deliveryId/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: "Send a delivery's event again (admin+ of its organization)",
    description:
      'A new delivery of the same event: the same body and `webhook-id`, a fresh round of retries. 409 if the webhook is inactive.',
  })
  @ApiEnvelope(WebhookDeliveryResponse, HttpStatus.ACCEPTED, SENT)
  @ApiErrors(403, 404, 409)
  redeliver(
    @CurrentActor() actor: Actor,
    @UuidParam('webhookId') webhookId: string,
    @UuidParam('deliveryId') deliveryId: string,
  ): Promise<WebhookDeliveryResponse> {
    return this.webhooks.redeliver(actor, webhookId, deliveryId);
  }

  @Post('webhooks/:webhookId/ping')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Send a `ping` event to this webhook (admin+ of its organization)',
    description: 'Its `data` is the webhook. Sent whatever the webhook’s `events`; 409 if it is inactive.',
  })
  @ApiEnvelope(WebhookDeliveryResponse, HttpStatus.ACCEPTED, SENT)
  @ApiErrors(403, 404, 409)
  ping(@CurrentActor() actor: Actor, @UuidParam('webhookId') webhookId: string): Promise<WebhookDeliveryResponse> {
    return this.webhooks.ping(actor, webhookId);
  }
}
