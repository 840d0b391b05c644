import { Injectable } from '@nestjs/common';
import { joinMembership } from '../access/membership-lookup';
import type { OrgRole } from '../access/org-roles';
import type { ApiKeyRole, Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';

export interface ApiKeyRow {
  id: string;
  orgId: string;
  name: string;
  role: ApiKeyRole;
  prefix: string;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** What checking a presented key needs. */
export interface ApiKeyCredential {
  id: string;
  orgId: string;
  role: ApiKeyRole;
  secretHash: Buffer;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const COLUMNS = `k.id, k.org_id AS "orgId", k.name, k.role, k.prefix, k.created_by AS "createdBy",
  k.created_at AS "createdAt", k.expires_at AS "expiresAt", k.last_used_at AS "lastUsedAt", k.revoked_at AS "revokedAt"`;

/** All SQL for the api_keys table. */
@Injectable()
export class ApiKeysRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  async insert(
    tx: Transaction,
    key: {
      orgId: string;
      name: string;
      role: ApiKeyRole;
      prefix: string;
      secretHash: Buffer;
      createdBy: string;
      expiresAt: string | null;
    },
  ): Promise<ApiKeyRow> {
    const [row] = await tx.rows<ApiKeyRow>({
      text: `INSERT INTO api_keys AS k (org_id, name, role, prefix, secret_hash, created_by, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      values: [key.orgId, key.name, key.role, key.prefix, key.secretHash, key.createdBy, key.expiresAt],
    });
    return row;
  }

  /** The org's keys, revoked and expired ones included. */
  list<Item>(orgId: string, page: KeysetPage<ApiKeyRow, Item>): Promise<Page<Item>> {
    return this.paginator.pageOfStatement(
      page,
      { select: `SELECT ${COLUMNS} FROM api_keys k`, where: ['k.org_id = $1'], values: [orgId] },
      (s) => this.db.rows<ApiKeyRow>(s),
    );
  }

  /** The key and the principal's role in its org (locked until `tx` ends, in one); none when either is missing. */
  async findForPrincipal(
    principal: Principal,
    apiKeyId: string,
    tx?: Transaction,
  ): Promise<(ApiKeyRow & { callerRole: OrgRole }) | undefined> {
    const statement = {
      text: `SELECT ${COLUMNS}, m.role AS "callerRole" FROM api_keys k ${joinMembership('k.org_id', '$2')}
              WHERE k.id = $1${tx ? ' FOR UPDATE OF k' : ''}`,
      values: [apiKeyId, principal.id],
    };
    const [row] = await (tx
      ? tx.rows<ApiKeyRow & { callerRole: OrgRole }>(statement)
      : this.db.rows<ApiKeyRow & { callerRole: OrgRole }>(statement));
    return row;
  }

  async markRevoked(tx: Transaction, apiKeyId: string): Promise<Date> {
    const [row] = await tx.rows<{ revokedAt: Date }>({
      text: 'UPDATE api_keys SET revoked_at = now() WHERE id = $1 RETURNING revoked_at AS "revokedAt"',
      values: [apiKeyId],
    });
    return row.revokedAt;
  }

  /** For checking a presented key: found by its public prefix. */
  async credential(prefix: string): Promise<ApiKeyCredential | undefined> {
    const [row] = await this.db.rows<ApiKeyCredential>({
      name: 'api_key_credential',
      text: `SELECT id, org_id AS "orgId", role, secret_hash AS "secretHash", expires_at AS "expiresAt",
                    revoked_at AS "revokedAt"
               FROM api_keys WHERE prefix = $1`,
      values: [prefix],
    });
    return row;
  }

  /** The ids of keys revoked in the last `seconds` (catching up after a missed notification). */
  async revokedWithin(seconds: number): Promise<string[]> {
    const rows = await this.db.rows<{ id: string }>({
      text: `SELECT id FROM api_keys WHERE revoked_at > now() - make_interval(secs => $1)`,
      values: [seconds],
    });
    return rows.map((row) => row.id);
  }

  async recordUse(tx: Transaction, apiKeyIds: string[], usedAt: Date[]): Promise<void> {
    await tx.affected({
      text: `UPDATE api_keys k SET last_used_at = u.used_at
               FROM unnest($1::uuid[], $2::timestamptz[]) AS u(id, used_at)
              WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at)`,
      values: [apiKeyIds, usedAt.map((at) => at.toISOString())],
    });
  }
}
