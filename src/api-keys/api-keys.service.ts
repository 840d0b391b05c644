import { Injectable } from '@nestjs/common';
import { requireAccess } from '../access/access-policy';
import { AuditService } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { UnitOfWork } from '../database/unit-of-work';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { ApiKeyToken } from './api-key-token';
import { ApiKeyResponse, CreatedApiKeyResponse } from './api-key.response';
import { ApiKeysRepository } from './api-keys.repository';
import { CreateApiKeyDto, ListApiKeysQuery } from './dto/api-key.dto';

/**
 * Org API keys (§18): admins of an org (people only, as the access matrix says) create them with
 * a role short of owner and an optional expiry, see them listed, and revoke them. The token is
 * shown once, in the 201; creation and revocation are audited, and a revocation reaches every
 * instance when it commits (ApiKeyAuthenticator).
 */
@Injectable()
export class ApiKeysService {
  constructor(
    private readonly keys: ApiKeysRepository,
    private readonly authenticator: ApiKeyAuthenticator,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Admin+, as @OrgAccess('apiKey.create') checked. */
  create(actor: Actor, orgId: string, input: CreateApiKeyDto): Promise<CreatedApiKeyResponse> {
    const { token, prefix, secretHash } = ApiKeyToken.generate();
    return this.unitOfWork.run(async (tx) => {
      const key = await this.keys.insert(tx, {
        orgId,
        name: input.name,
        role: input.role,
        prefix,
        secretHash,
        createdBy: actor.id,
        expiresAt: input.expiresAt ?? null,
      });
      const response = ApiKeyResponse.from(key);
      await this.audit.record(tx, actor, {
        orgId,
        action: 'api_key.created',
        entityType: 'api_key',
        entityId: key.id,
        changes: { name: [null, key.name], role: [null, key.role], expiresAt: [null, response.expiresAt] },
        data: response, // never the token: it is in the 201 alone
      });
      return { ...response, token };
    }, actor);
  }

  /** Admin+, as @OrgAccess('apiKey.read') checked. Newest first unless asked otherwise. */
  list(orgId: string, query: ListApiKeysQuery): Promise<Page<ApiKeyResponse>> {
    return this.keys.list(
      orgId,
      inCreationOrder(
        'k',
        listScope('api-keys', { orgId, sort: query.sort }),
        query.sort.startsWith('-') ? 'DESC' : 'ASC',
        (k) => ApiKeyResponse.from(k, this.authenticator.lastUse(k.id)),
        query,
      ),
    );
  }

  /** Admin+ of the key's org. */
  async get(principal: Principal, apiKeyId: string): Promise<ApiKeyResponse> {
    const key = await this.keys.findForPrincipal(principal, apiKeyId);
    if (!key) throw ApiException.notFound('API key');
    requireAccess(principal, 'apiKey.read', { role: key.callerRole });
    return ApiKeyResponse.from(key, this.authenticator.lastUse(key.id));
  }

  /** Admin+ of the key's org. Revoking a revoked key changes nothing (204 again). */
  async revoke(actor: Actor, apiKeyId: string): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const key = await this.keys.findForPrincipal(actor, apiKeyId, tx);
      if (!key) throw ApiException.notFound('API key');
      requireAccess(actor, 'apiKey.revoke', { role: key.callerRole });
      if (key.revokedAt) return;
      const revokedAt = await this.keys.markRevoked(tx, apiKeyId);
      await this.authenticator.publishRevocation(tx, apiKeyId);
      await this.audit.record(tx, actor, {
        orgId: key.orgId,
        action: 'api_key.revoked',
        entityType: 'api_key',
        entityId: apiKeyId,
        changes: { revokedAt: [null, revokedAt.toISOString()] },
        data: ApiKeyResponse.from({ ...key, revokedAt }),
      });
    }, actor);
  }
}
