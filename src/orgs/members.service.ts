import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import type { Membership } from '../common/tenancy/org-access';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';
import { isUniqueViolation } from '../database/database-errors';
import { User } from '../users/user.entity';
import { MembershipRow } from './membership.entity';
import { MemberResponse } from './org.response';

type MemberRow = MembershipRow & { user: Pick<User, 'id' | 'email' | 'name'> };

function toResponse(row: MemberRow): MemberResponse {
  return {
    userId: row.userId,
    orgId: row.orgId,
    role: row.role,
    user: { id: row.user.id, email: row.user.email, name: row.user.name },
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Memberships and their rules: admins and owners manage members; only an owner makes an owner
 * or changes or removes one; an org never loses its last owner.
 */
@Injectable()
export class MembersService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly paginator: CursorPaginator,
  ) {}

  /** Oldest member first. */
  list(orgId: string, query: ListQuery): Promise<Page<MemberResponse>> {
    const qb = this.dataSource
      .createQueryBuilder(MembershipRow, 'm')
      .innerJoinAndMapOne('m.user', User, 'u', 'u.id = m.user_id')
      .select(['m', 'u.id', 'u.email', 'u.name'])
      .where('m.org_id = :orgId', { orgId });
    return this.paginator.paginate(qb, {
      scope: listScope('members', { orgId }),
      sortColumn: 'm.created_at',
      idColumn: 'm.user_id',
      direction: 'ASC',
      position: (m) => [m.createdAt.toISOString(), m.userId],
      map: (m) => toResponse(m as MemberRow),
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  get(orgId: string, userId: string): Promise<MemberResponse> {
    return this.find(this.dataSource.manager, orgId, userId);
  }

  async add(actor: Actor, caller: Membership, email: string, role: OrgRole): Promise<MemberResponse> {
    if (role === 'owner') assertOrgRole(caller.role, 'owner', 'make someone an owner');
    const [user]: { id: string }[] = await this.dataSource.query(
      'SELECT id FROM users WHERE email = $1 AND deleted_at IS NULL',
      [email],
    );
    if (!user) throw ApiException.notFound('User with this email');
    try {
      return await this.dataSource.transaction(async (manager) => {
        await manager.query('INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, $3)', [
          caller.orgId,
          user.id,
          role,
        ]);
        await this.audit.record(manager, actor, {
          orgId: caller.orgId,
          action: 'membership.created',
          entityType: 'membership',
          entityId: user.id,
          changes: { role: [null, role] },
        });
        return this.find(manager, caller.orgId, user.id);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ApiException.conflict('This user is already a member');
      throw error;
    }
  }

  async changeRole(actor: Actor, caller: Membership, userId: string, role: OrgRole): Promise<MemberResponse> {
    return this.dataSource.transaction(async (manager) => {
      const current = await this.lockedMember(manager, caller.orgId, userId);
      if (role === 'owner' || current.role === 'owner')
        assertOrgRole(caller.role, 'owner', "grant or change an owner's role");
      if (current.role === role) return this.find(manager, caller.orgId, userId);
      if (current.role === 'owner') await this.assertAnotherOwner(manager, caller.orgId, userId);
      await manager.query('UPDATE memberships SET role = $3, updated_at = now() WHERE org_id = $1 AND user_id = $2', [
        caller.orgId,
        userId,
        role,
      ]);
      await this.audit.record(manager, actor, {
        orgId: caller.orgId,
        action: 'membership.updated',
        entityType: 'membership',
        entityId: userId,
        changes: { role: [current.role, role] },
      });
      return this.find(manager, caller.orgId, userId);
    });
  }

  /** Admins remove members (owners only by owners); anyone may leave. */
  async remove(actor: Actor, caller: Membership, userId: string): Promise<void> {
    const leaving = userId === actor.userId;
    if (!leaving) assertOrgRole(caller.role, 'admin', 'remove members');
    await this.dataSource.transaction(async (manager) => {
      const current = await this.lockedMember(manager, caller.orgId, userId);
      if (current.role === 'owner') {
        if (!leaving) assertOrgRole(caller.role, 'owner', 'remove an owner');
        await this.assertAnotherOwner(manager, caller.orgId, userId);
      }
      await manager.query('DELETE FROM memberships WHERE org_id = $1 AND user_id = $2', [caller.orgId, userId]);
      await this.audit.record(manager, actor, {
        orgId: caller.orgId,
        action: 'membership.deleted',
        entityType: 'membership',
        entityId: userId,
        changes: { role: [current.role, null] },
      });
    });
  }

  /**
   * Locks the member together with the org's owners, in one statement and in user-id order (the
   * order account deletion uses too): two owners stepping down at once then queue up behind each
   * other, and the second sees the first's change, instead of deadlocking (a 500).
   */
  private async lockedMember(manager: EntityManager, orgId: string, userId: string): Promise<{ role: OrgRole }> {
    const rows: { user_id: string; role: OrgRole }[] = await manager.query(
      `SELECT user_id, role FROM memberships WHERE org_id = $1 AND (user_id = $2 OR role = 'owner')
        ORDER BY user_id FOR UPDATE`,
      [orgId, userId],
    );
    const row = rows.find((r) => r.user_id === userId);
    if (!row) throw ApiException.notFound('Member');
    return { role: row.role };
  }

  /** Locks the org's owners, so that two owners cannot both step down at once. */
  private async assertAnotherOwner(manager: EntityManager, orgId: string, userId: string): Promise<void> {
    const owners: { user_id: string }[] = await manager.query(
      `SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'owner' FOR UPDATE`,
      [orgId],
    );
    if (!owners.some((o) => o.user_id !== userId)) {
      throw ApiException.conflict('An organization must keep at least one owner');
    }
  }

  private async find(manager: EntityManager, orgId: string, userId: string): Promise<MemberResponse> {
    const row = await manager
      .createQueryBuilder(MembershipRow, 'm')
      .innerJoinAndMapOne('m.user', User, 'u', 'u.id = m.user_id')
      .select(['m', 'u.id', 'u.email', 'u.name'])
      .where('m.org_id = :orgId AND m.user_id = :userId', { orgId, userId })
      .getOne();
    if (!row) throw ApiException.notFound('Member');
    return toResponse(row as MemberRow);
  }
}
