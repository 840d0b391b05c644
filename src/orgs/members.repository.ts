import { Injectable } from '@nestjs/common';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import type { MembershipRow } from './membership.entity';

/** A membership with the name and email of its user (read from users, which this module never writes). */
export type MemberRow = MembershipRow & { email: string; name: string };

const COLUMNS = `m.org_id AS "orgId", m.user_id AS "userId", m.role, m.created_at AS "createdAt",
  m.updated_at AS "updatedAt", u.email, u.name`;
const MEMBERS = `SELECT ${COLUMNS} FROM memberships m JOIN users u ON u.id = m.user_id`;

/** All SQL for the memberships table. */
@Injectable()
export class MembersRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  /** Oldest member first. A list may lag: a replica that has `readerId`'s writes may serve it. */
  list<Item>(readerId: string, orgId: string, page: KeysetPage<MemberRow, Item>): Promise<Page<Item>> {
    return this.paginator.pageOfStatement(page, { select: MEMBERS, where: ['m.org_id = $1'], values: [orgId] }, (s) =>
      this.db.laggingRows<MemberRow>(readerId, s),
    );
  }

  async find(orgId: string, userId: string, tx?: Transaction): Promise<MemberRow | undefined> {
    const statement = { text: `${MEMBERS} WHERE m.org_id = $1 AND m.user_id = $2`, values: [orgId, userId] };
    const [row] = tx ? await tx.rows<MemberRow>(statement) : await this.db.rows<MemberRow>(statement);
    return row;
  }

  /** Whether an active account with this email is a member of the org. */
  async hasMemberWithEmail(tx: Transaction, orgId: string, email: string): Promise<boolean> {
    const rows = await tx.rows({
      text: `SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id
              WHERE m.org_id = $1 AND u.email = $2 AND u.deleted_at IS NULL`,
      values: [orgId, email],
    });
    return rows.length > 0;
  }

  /** The id of the active account with this email, if any. */
  async accountWithEmail(email: string): Promise<string | undefined> {
    const [row] = await this.db.rows<{ id: string }>({
      text: 'SELECT id FROM users WHERE email = $1 AND deleted_at IS NULL',
      values: [email],
    });
    return row?.id;
  }

  async insert(tx: Transaction, orgId: string, userId: string, role: OrgRole): Promise<void> {
    await tx.affected({
      text: 'INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)',
      values: [orgId, userId, role],
    });
  }

  async updateRole(tx: Transaction, orgId: string, userId: string, role: OrgRole): Promise<void> {
    await tx.affected({
      text: 'UPDATE memberships SET role = $3, updated_at = now() WHERE org_id = $1 AND user_id = $2',
      values: [orgId, userId, role],
    });
  }

  async delete(tx: Transaction, orgId: string, userId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM memberships WHERE org_id = $1 AND user_id = $2', values: [orgId, userId] });
  }

  async deleteAllOf(tx: Transaction, userId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM memberships WHERE user_id = $1', values: [userId] });
  }

  /**
   * Locks the member together with the org's owners, in one statement and in user-id order (the
   * order account deletion uses too): two owners stepping down at once then queue up behind each
   * other, and the second sees the first's change, instead of deadlocking (a 500).
   */
  async lockMemberAndOwners(
    tx: Transaction,
    orgId: string,
    userId: string,
  ): Promise<{ user_id: string; role: OrgRole }[]> {
    return tx.rows({
      text: `SELECT user_id, role FROM memberships WHERE org_id = $1 AND (user_id = $2 OR role = 'owner')
              ORDER BY user_id FOR UPDATE`,
      values: [orgId, userId],
    });
  }

  /**
   * A user's memberships and the co-owners of the orgs it owns, locked in one statement in
   * (org, user) order: two co-owners deleting their accounts at once queue up, and the second
   * sees the first's departure.
   */
  async lockAllOfUserWithCoOwners(
    tx: Transaction,
    userId: string,
  ): Promise<{ org_id: string; user_id: string; role: OrgRole }[]> {
    return tx.rows({
      text: `SELECT org_id, user_id, role FROM memberships
              WHERE user_id = $1
                 OR (role = 'owner' AND org_id IN (SELECT org_id FROM memberships WHERE user_id = $1 AND role = 'owner'))
              ORDER BY org_id, user_id FOR UPDATE`,
      values: [userId],
    });
  }

  /** The org's owners, locked: read after the member's lock, so that a promotion committed meanwhile is seen. */
  async lockOwners(tx: Transaction, orgId: string): Promise<string[]> {
    const rows = await tx.rows<{ user_id: string }>({
      text: `SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' FOR UPDATE`,
      values: [orgId],
    });
    return rows.map((r) => r.user_id);
  }

  /** Which of `orgIds` have no owner but `userId`. */
  async ownedOnlyBy(tx: Transaction, orgIds: string[], userId: string): Promise<string[]> {
    const rows = await tx.rows<{ org_id: string }>({
      text: `SELECT o.org_id FROM unnest($1::uuid[]) AS o(org_id)
              WHERE NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = o.org_id AND m.role = 'owner' AND m.user_id <> $2)`,
      values: [orgIds, userId],
    });
    return rows.map((r) => r.org_id);
  }
}
