import { Injectable } from '@nestjs/common';
import type { Principal } from '../common/auth/auth-user';
import { membershipOf } from './membership-lookup';
import type { OrgRole } from './org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';

/**
 * The principal's role in an organization, read from memberships (which the orgs module owns
 * and writes; this reads only) and, for API keys, api_keys — through the org_principals view.
 */
export const ROLE_IN_ORG = `SELECT m.role FROM org_principals m WHERE ${membershipOf('$1', '$2')}`;

@Injectable()
export class AccessRepository {
  constructor(private readonly db: Database) {}

  async roleIn(principal: Principal, orgId: string, tx?: Transaction): Promise<OrgRole | undefined> {
    const statement = {
      name: 'role_in_org',
      text: ROLE_IN_ORG,
      planCached: 'SELECT * FROM role_in_org($1, $2)',
      values: [orgId, principal.id],
    };
    const [row] = await (tx ? tx.rows<{ role: OrgRole }>(statement) : this.db.rows<{ role: OrgRole }>(statement));
    return row?.role;
  }
}
