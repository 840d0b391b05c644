import { Injectable } from '@nestjs/common';
import { requireAccess } from '../access/access-policy';
import type { Membership } from '../access/org-access.guard';
import { AuditService } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { listScope } from '../common/pagination/cursor-paginator';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { isUniqueViolation } from '../database/database-errors';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { MemberRow, MembersRepository } from './members.repository';
import { MemberResponse } from './org.response';

function toResponse(row: MemberRow): MemberResponse {
  return {
    userId: row.userId,
    orgId: row.orgId,
    role: row.role,
    user: { id: row.userId, email: row.email, name: row.name },
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
    private readonly members: MembersRepository,
    private readonly audit: AuditService,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** Oldest member first. */
  list(reader: Principal, orgId: string, query: ListQuery): Promise<Page<MemberResponse>> {
    return this.members.list(reader.id, orgId, {
      scope: listScope('members', { orgId }),
      sortColumn: 'm.created_at',
      idColumn: 'm.user_id',
      direction: 'ASC',
      position: (m) => [m.createdAt.toISOString(), m.userId],
      map: toResponse,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  get(orgId: string, userId: string): Promise<MemberResponse> {
    return this.find(orgId, userId);
  }

  /** Whether an active account with this email is a member of the org (in `tx`). */
  hasMemberWithEmail(tx: Transaction, orgId: string, email: string): Promise<boolean> {
    return this.members.hasMemberWithEmail(tx, orgId, email);
  }

  /** Admin+, as @OrgAccess('member.add') checked; an owner only by an owner. */
  async add(actor: Actor, caller: Membership, email: string, role: OrgRole): Promise<MemberResponse> {
    if (role === 'owner') requireAccess(actor, 'owner.grant', caller);
    const userId = await this.members.accountWithEmail(email);
    if (!userId) throw ApiException.notFound('User with this email');
    try {
      return await this.unitOfWork.run(async (tx) => {
        await this.join(tx, actor, caller.orgId, userId, role);
        return this.find(caller.orgId, userId, tx);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw ApiException.conflict('This user is already a member');
      throw error;
    }
  }

  /** Adds a membership and its audit event in `tx` (a new org's owner, an added member). */
  async join(tx: Transaction, actor: Actor, orgId: string, userId: string, role: OrgRole): Promise<void> {
    await this.members.insert(tx, orgId, userId, role);
    await this.audit.record(tx, actor, {
      orgId,
      action: 'membership.created',
      entityType: 'membership',
      entityId: userId,
      changes: { role: [null, role] },
      data: () => this.find(orgId, userId, tx),
    });
  }

  /** Admin+, as @OrgAccess('member.changeRole') checked; to or from owner only by an owner. */
  async changeRole(actor: Actor, caller: Membership, userId: string, role: OrgRole): Promise<MemberResponse> {
    return this.unitOfWork.run(async (tx) => {
      const current = await this.lockedMember(tx, caller.orgId, userId);
      if (role === 'owner' || current === 'owner') requireAccess(actor, 'owner.grant', caller);
      if (current === role) return this.find(caller.orgId, userId, tx);
      if (current === 'owner') await this.assertAnotherOwner(tx, caller.orgId, userId);
      await this.members.updateRole(tx, caller.orgId, userId, role);
      await this.audit.record(tx, actor, {
        orgId: caller.orgId,
        action: 'membership.updated',
        entityType: 'membership',
        entityId: userId,
        changes: { role: [current, role] },
        data: () => this.find(caller.orgId, userId, tx),
      });
      return this.find(caller.orgId, userId, tx);
    });
  }

  /** Admins remove members (owners only by owners); anyone may leave, the last owner excepted. @OrgAccess('org.read') checked membership. */
  async remove(actor: Actor, caller: Membership, userId: string): Promise<void> {
    requireAccess(actor, 'member.remove', { ...caller, ownerId: userId });
    await this.unitOfWork.run(async (tx) => {
      const current = await this.lockedMember(tx, caller.orgId, userId);
      if (current === 'owner') {
        requireAccess(actor, 'owner.remove', { ...caller, ownerId: userId });
        await this.assertAnotherOwner(tx, caller.orgId, userId);
      }
      // The member's last state, for the webhook event (a read, made before it is gone).
      const last = await this.find(caller.orgId, userId, tx);
      await this.members.delete(tx, caller.orgId, userId);
      await this.audit.record(tx, actor, {
        orgId: caller.orgId,
        action: 'membership.deleted',
        entityType: 'membership',
        entityId: userId,
        changes: { role: [current, null] },
        data: last,
      });
    });
  }

  /**
   * A deleted account leaves its organizations (each departure audited), in the deletion's
   * transaction, unless it is the last owner of one: then the deletion is refused with 409.
   */
  async leaveAllOrgs(tx: Transaction, actor: Actor, userId: string): Promise<void> {
    const locked = await this.members.lockAllOfUserWithCoOwners(tx, userId);
    const memberships = locked.filter((m) => m.user_id === userId);
    const owned = memberships.filter((m) => m.role === 'owner').map((m) => m.org_id);
    if (owned.length > 0 && (await this.members.ownedOnlyBy(tx, owned, userId)).length > 0) {
      throw ApiException.conflict('This user is the last owner of an organization: make someone else owner first');
    }
    // The memberships' last states, for the webhook events (read before they are gone).
    const last: MemberResponse[] = [];
    for (const m of memberships) last.push(await this.find(m.org_id, userId, tx));
    await this.members.deleteAllOf(tx, userId);
    for (const [index, m] of memberships.entries()) {
      await this.audit.record(tx, actor, {
        orgId: m.org_id,
        action: 'membership.deleted',
        entityType: 'membership',
        entityId: userId,
        changes: { role: [m.role, null] },
        data: last[index],
      });
    }
  }

  /** The member's role, the member and the org's owners locked (see MembersRepository). */
  private async lockedMember(tx: Transaction, orgId: string, userId: string): Promise<OrgRole> {
    const rows = await this.members.lockMemberAndOwners(tx, orgId, userId);
    const row = rows.find((r) => r.user_id === userId);
    if (!row) throw ApiException.notFound('Member');
    return row.role;
  }

  private async assertAnotherOwner(tx: Transaction, orgId: string, userId: string): Promise<void> {
    const owners = await this.members.lockOwners(tx, orgId);
    if (!owners.some((owner) => owner !== userId)) {
      throw ApiException.conflict('An organization must keep at least one owner');
    }
  }

  private async find(orgId: string, userId: string, tx?: Transaction): Promise<MemberResponse> {
    const row = await this.members.find(orgId, userId, tx);
    if (!row) throw ApiException.notFound('Member');
    return toResponse(row);
  }
}
