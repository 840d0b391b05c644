import { Body, Controller, Delete, Get, Header, HttpCode, HttpStatus, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentMembership, Membership, OrgAccess } from '../access/org-access.guard';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { UuidParam } from '../common/http/uuid-param';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { ApiKeyResponse, CreatedApiKeyResponse } from './api-key.response';
import { ApiKeysService } from './api-keys.service';
import { CreateApiKeyDto, ListApiKeysQuery } from './dto/api-key.dto';

/** People only: no route here accepts an API key (keys never manage keys). */
@ApiTags('api-keys')
@ApiErrors(400)
@Controller()
export class ApiKeysController {
  constructor(private readonly apiKeys: ApiKeysService) {}

  @Post('orgs/:orgId/api-keys')
  @OrgAccess('apiKey.create')
  @Header('Cache-Control', 'no-store') // the token, shown this once
  @Created((key: ApiKeyResponse) => apiPath('api-keys', key.id))
  @ApiOperation({
    summary: 'Create an API key for the organization (admin+)',
    description:
      'The key acts with its role (`admin`, `member` or `viewer`) inside this organization only, until it expires or is revoked. `data.token` is shown in this response only: send it as `Authorization: Bearer tl_…`.',
  })
  @ApiEnvelope(CreatedApiKeyResponse, HttpStatus.CREATED, 'Created; the token is shown this once')
  create(
    @CurrentActor() actor: Actor,
    @CurrentMembership() caller: Membership,
    @Body() body: CreateApiKeyDto,
  ): Promise<CreatedApiKeyResponse> {
    return this.apiKeys.create(actor, caller.orgId, body);
  }

  @Get('orgs/:orgId/api-keys')
  @OrgAccess('apiKey.read')
  @ApiOperation({
    summary: "The organization's API keys, revoked and expired ones included, newest first (admin+)",
    description:
      'Admins and owners, people only (keys never manage keys: 403). Never the tokens; `lastUsedAt` is roughly current (each instance records uses every 30 s). Sorted by `sort` and paged by cursor.',
  })
  @ApiListEnvelope(ApiKeyResponse)
  list(@CurrentMembership() caller: Membership, @Query() query: ListApiKeysQuery): Promise<Page<ApiKeyResponse>> {
    return this.apiKeys.list(caller.orgId, query);
  }

  @Get('api-keys/:apiKeyId')
  @ApiOperation({
    summary: 'An API key, without its token (admin+ of its organization)',
    description:
      "Admins and owners of the key's organization, people only (API keys get 403). 404 if you are not a member of that organization; 403 for members and viewers.",
  })
  @ApiEnvelope(ApiKeyResponse)
  @ApiErrors(403, 404)
  get(@CurrentActor() actor: Actor, @UuidParam('apiKeyId') apiKeyId: string): Promise<ApiKeyResponse> {
    return this.apiKeys.get(actor, apiKeyId);
  }

  @Delete('api-keys/:apiKeyId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Revoke an API key (admin+ of its organization)',
    description: 'It stops working within a second on every instance. Revoking a revoked key is a 204 again.',
  })
  @ApiNoContent('Revoked')
  @ApiErrors(403, 404)
  revoke(@CurrentActor() actor: Actor, @UuidParam('apiKeyId') apiKeyId: string): Promise<void> {
    return this.apiKeys.revoke(actor, apiKeyId);
  }
}
