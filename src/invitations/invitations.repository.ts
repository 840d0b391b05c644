import { Injectable } from '@nestjs/common';
import { joinMembership } from '../access/membership-lookup';
import type { OrgRole } from '../access/org-roles';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';

export const INVITATION_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InvitationStatus = (typeof INVITATION_STATUSES)[number];

export interface InvitationRow {
  id: string;
  orgId: string;
  email: string;
  role: OrgRole;
  status: InvitationStatus;
  invitedBy: string | null;
  expiresAt: Date;
  createdAt: Date;
  acceptedAt: Date | null;
}

/** What the invitee sees before accepting (names read from orgs and users, never written here). */
export interface InvitationPreviewRow extends InvitationRow {
  orgName: string;
  invitedByName: string | null;
}

// Derived from the timestamps, so that expiry needs no job: past expires_at, a pending one is expired.
const STATUS = `CASE WHEN i.accepted_at IS NOT NULL THEN 'accepted' WHEN i.revoked_at IS NOT NULL THEN 'revoked'
  WHEN i.expires_at <= now() THEN 'expired' ELSE 'pending' END`;
const COLUMNS = `i.id, i.org_id AS "orgId", i.email, i.role, ${STATUS} AS status, i.invited_by AS "invitedBy",
  i.expires_at AS "expiresAt", i.created_at AS "createdAt", i.accepted_at AS "acceptedAt"`;
const NAMED_COLUMNS = `${COLUMNS}, o.name AS "orgName", u.name AS "invitedByName"`;
// A deleted (soft-deleted) inviter is no longer named.
const JOIN_NAMES = 'JOIN orgs o ON o.id = i.org_id LEFT JOIN users u ON u.id = i.invited_by AND u.deleted_at IS NULL';

/** All SQL for the invitations table. */
@Injectable()
export class InvitationsRepository {
  constructor(
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  /**
   * Serializes invitations of one email to one org until `tx` ends (a transaction-scoped advisory
   * lock): two admins inviting the same person at once get one invitation and one 409.
   */
  async lockInvitee(tx: Transaction, orgId: string, email: string): Promise<void> {
    await tx.rows({
      text: `SELECT pg_advisory_xact_lock(hashtextextended('invitation:' || $1 || ':' || $2, 0))`,
      values: [orgId, email],
    });
  }

  /** How many invitations the org sent in the last hour, and when the oldest of them leaves that hour (s). */
  async sentWithinHour(orgId: string): Promise<{ count: number; oldestLeavesIn: number }> {
    const [row] = await this.db.rows<{ count: number; oldestLeavesIn: number }>({
      text: `SELECT count(*)::int AS count,
                    COALESCE(EXTRACT(EPOCH FROM min(created_at) + interval '1 hour' - now()), 0)::float8 AS "oldestLeavesIn"
               FROM invitations WHERE org_id = $1 AND created_at > now() - interval '1 hour'`,
      values: [orgId],
    });
    return row;
  }

  async hasPending(tx: Transaction, orgId: string, email: string): Promise<boolean> {
    const rows = await tx.rows({
      text: `SELECT 1 FROM invitations
              WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > now()`,
      values: [orgId, email],
    });
    return rows.length > 0;
  }

  async insert(
    tx: Transaction,
    invitation: {
      orgId: string;
      email: string;
      role: OrgRole;
      tokenHash: Buffer;
      invitedBy: string;
      ttlSeconds: number;
    },
  ): Promise<InvitationPreviewRow> {
    const [row] = await tx.rows<InvitationPreviewRow>({
      text: `WITH i AS (
               INSERT INTO invitations (org_id, email, role, token_hash, invited_by, expires_at)
               VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6)) RETURNING *
             )
             SELECT ${NAMED_COLUMNS} FROM i ${JOIN_NAMES}`,
      values: [
        invitation.orgId,
        invitation.email,
        invitation.role,
        invitation.tokenHash,
        invitation.invitedBy,
        invitation.ttlSeconds,
      ],
    });
    return row;
  }

  /** The org's invitations, with an optional status; newest first unless asked otherwise. */
  list<Item>(
    orgId: string,
    status: InvitationStatus | undefined,
    page: KeysetPage<InvitationRow, Item>,
  ): Promise<Page<Item>> {
    const values: unknown[] = [orgId];
    const where = ['i.org_id = $1'];
    if (status) where.push(`${STATUS} = $${values.push(status)}`);
    return this.paginator.pageOfStatement(
      page,
      { select: `SELECT ${COLUMNS} FROM invitations i`, where, values },
      (s) => this.db.rows<InvitationRow>(s),
    );
  }

  /** The invitation and the principal's role in its org; none when either is missing. */
  async findForPrincipal(
    principal: Principal,
    invitationId: string,
    tx?: Transaction,
  ): Promise<(InvitationRow & { callerRole: OrgRole }) | undefined> {
    const statement = {
      text: `SELECT ${COLUMNS}, m.role AS "callerRole" FROM invitations i ${joinMembership('i.org_id', '$2')}
              WHERE i.id = $1${tx ? ' FOR UPDATE OF i' : ''}`,
      values: [invitationId, principal.id],
    };
    const [row] = tx
      ? await tx.rows<InvitationRow & { callerRole: OrgRole }>(statement)
      : await this.db.rows<InvitationRow & { callerRole: OrgRole }>(statement);
    return row;
  }

  /** The invitation this token opens, with the names its preview shows; locked when in `tx`. */
  async findByToken(tokenHash: Buffer, tx?: Transaction): Promise<InvitationPreviewRow | undefined> {
    const statement = {
      text: `SELECT ${NAMED_COLUMNS} FROM invitations i ${JOIN_NAMES} WHERE i.token_hash = $1${tx ? ' FOR UPDATE OF i' : ''}`,
      values: [tokenHash],
    };
    const [row] = tx
      ? await tx.rows<InvitationPreviewRow>(statement)
      : await this.db.rows<InvitationPreviewRow>(statement);
    return row;
  }

  async markAccepted(tx: Transaction, invitationId: string, userId: string): Promise<void> {
    await tx.affected({
      text: 'UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1',
      values: [invitationId, userId],
    });
  }

  async markRevoked(tx: Transaction, invitationId: string): Promise<void> {
    await tx.affected({ text: 'UPDATE invitations SET revoked_at = now() WHERE id = $1', values: [invitationId] });
  }
}
