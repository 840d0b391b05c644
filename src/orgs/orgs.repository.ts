import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { joinMembership, membershipOf } from '../access/membership-lookup';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { Org } from './org.entity';

const COLUMNS = 'o.id, o.name, o.slug, o.created_at AS "createdAt", o.updated_at AS "updatedAt", o.version';
const ORG_FOR_PRINCIPAL = `SELECT ${COLUMNS}, m.role FROM orgs o ${joinMembership('o.id', '$2')} WHERE o.id = $1`;

export type OrgWithRole = Org & { role: OrgRole };

/** All SQL for the orgs table. */
@Injectable()
export class OrgsRepository {
  constructor(
    @InjectRepository(Org) private readonly orgs: Repository<Org>,
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  async insert(tx: Transaction, name: string, slug: string): Promise<Org> {
    const [row] = await tx.rows<Org>({
      text: `INSERT INTO orgs AS o (name, slug) VALUES ($1, $2) RETURNING ${COLUMNS}`,
      values: [name, slug],
    });
    return row;
  }

  /** The orgs the principal belongs to. */
  listForPrincipal<Item>(principal: Principal, page: KeysetPage<Org, Item>): Promise<Page<Item>> {
    const qb = this.orgs
      .createQueryBuilder('o')
      .innerJoin('org_principals', 'm', membershipOf('o.id', ':principalId'), { principalId: principal.id });
    return this.paginator.page(page, (w) =>
      qb.andWhere(w.where, w.parameters).orderBy(w.order).limit(w.limit).getMany(),
    );
  }

  /** The org and the principal's role in it, in one statement; none when either is missing. */
  async findForPrincipal(principal: Principal, orgId: string): Promise<OrgWithRole | undefined> {
    const [row] = await this.db.rows<OrgWithRole>({ text: ORG_FOR_PRINCIPAL, values: [orgId, principal.id] });
    return row;
  }

  /** The same, the org locked for the rest of the transaction. */
  async lockForPrincipal(tx: Transaction, principal: Principal, orgId: string): Promise<OrgWithRole | undefined> {
    const [row] = await tx.rows<OrgWithRole>({
      text: `${ORG_FOR_PRINCIPAL} FOR UPDATE OF o`,
      values: [orgId, principal.id],
    });
    return row;
  }

  async update(tx: Transaction, orgId: string, changes: { name?: string; slug?: string }): Promise<Org> {
    const [row] = await tx.rows<Org>({
      text: `UPDATE orgs o SET name = COALESCE($2, name), slug = COALESCE($3, slug), updated_at = now(), version = version + 1
              WHERE id = $1 RETURNING ${COLUMNS}`,
      values: [orgId, changes.name ?? null, changes.slug ?? null],
    });
    return row;
  }

  /** Projects, tasks and memberships go with it (their files are queued by the attachments' trigger); the audit trail stays. */
  async delete(tx: Transaction, orgId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM orgs WHERE id = $1', values: [orgId] });
  }
}
