import { Injectable } from '@nestjs/common';
import { requireAccess } from '../access/access-policy';
import type { Membership } from '../access/org-access.guard';
import { AuditService } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { AppConfig } from '../config/app-config';
import { isUniqueViolation } from '../database/database-errors';
import { UnitOfWork } from '../database/unit-of-work';
import type { MailContent } from '../mail/mail-message';
import { Mailer } from '../mail/mailer';
import { MembersService } from '../orgs/members.service';
import { MemberResponse } from '../orgs/org.response';
import { UsersService } from '../users/users.service';
import { CreateInvitationDto, ListInvitationsQuery } from './dto/invitation.dto';
import { InvitationPreviewResponse, InvitationResponse } from './invitation.response';
import { InvitationPreviewRow, InvitationsRepository } from './invitations.repository';
import { BearerSecret } from '../common/auth/bearer-secret';

/** An invitation is valid for 7 days. */
export const INVITATION_TTL_SECONDS = 7 * 86400;

/**
 * Invitations by email (§16): admins invite (an owner only by an owner); the invitee follows the
 * link in the mail, signs in or registers with the invited email, and accepts. The token is 256
 * random bits, stored as its SHA-256, used once; the mail is queued in the invitation's
 * transaction. Every change is audited.
 */
@Injectable()
export class InvitationsService {
  constructor(
    private readonly invitations: InvitationsRepository,
    private readonly members: MembersService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly mailer: Mailer,
    private readonly unitOfWork: UnitOfWork,
    private readonly config: AppConfig,
  ) {}

  /** Admin+, as @OrgAccess('invitation.create') checked; an owner only by an owner. */
  async create(actor: Actor, caller: Membership, input: CreateInvitationDto): Promise<InvitationResponse> {
    if (input.role === 'owner') requireAccess(actor, 'owner.grant', caller);
    const { orgId } = caller;
    // Mail from the product's address to anyone an admin names: bounded per org.
    const sent = await this.invitations.sentWithinHour(orgId);
    if (sent.count >= this.config.env.INVITATIONS_PER_HOUR) throw ApiException.rateLimited(sent.oldestLeavesIn);
    return this.unitOfWork.run(async (tx) => {
      await this.invitations.lockInvitee(tx, orgId, input.email);
      if (await this.members.hasMemberWithEmail(tx, orgId, input.email)) {
        throw ApiException.conflict('This email already belongs to a member of the organization');
      }
      if (await this.invitations.hasPending(tx, orgId, input.email)) {
        throw ApiException.conflict('This email already has a pending invitation; revoke it to send a new one');
      }
      const token = BearerSecret.generate();
      const invitation = await this.invitations.insert(tx, {
        orgId,
        email: input.email,
        role: input.role,
        tokenHash: BearerSecret.hash(token),
        invitedBy: actor.id,
        ttlSeconds: INVITATION_TTL_SECONDS,
      });
      await this.audit.record(tx, actor, {
        orgId,
        action: 'invitation.created',
        entityType: 'invitation',
        entityId: invitation.id,
        changes: { email: [null, invitation.email], role: [null, invitation.role] },
        data: InvitationResponse.from(invitation),
      });
      await this.mailer.send(tx, this.invitationMail(invitation, token));
      return InvitationResponse.from(invitation);
    });
  }

  /** Admin+, as @OrgAccess('invitation.read') checked. */
  list(orgId: string, query: ListInvitationsQuery): Promise<Page<InvitationResponse>> {
    return this.invitations.list(
      orgId,
      query.status,
      inCreationOrder(
        'i',
        listScope('invitations', { orgId, status: query.status, sort: query.sort }),
        query.sort.startsWith('-') ? 'DESC' : 'ASC',
        InvitationResponse.from,
        query,
      ),
    );
  }

  async get(principal: Principal, invitationId: string): Promise<InvitationResponse> {
    const invitation = await this.invitations.findForPrincipal(principal, invitationId);
    if (!invitation) throw ApiException.notFound('Invitation');
    requireAccess(principal, 'invitation.read', { role: invitation.callerRole });
    return InvitationResponse.from(invitation);
  }

  /** Admin+ of the invitation's org; only a pending invitation can be revoked. */
  async revoke(actor: Actor, invitationId: string): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const invitation = await this.invitations.findForPrincipal(actor, invitationId, tx);
      if (!invitation) throw ApiException.notFound('Invitation');
      requireAccess(actor, 'invitation.revoke', { role: invitation.callerRole });
      if (invitation.status !== 'pending') {
        throw ApiException.conflict(`This invitation is ${invitation.status}; only a pending one can be revoked`);
      }
      await this.invitations.markRevoked(tx, invitationId);
      await this.audit.record(tx, actor, {
        orgId: invitation.orgId,
        action: 'invitation.revoked',
        entityType: 'invitation',
        entityId: invitationId,
        changes: { status: ['pending', 'revoked'] },
        data: async () => InvitationResponse.from((await this.invitations.findForPrincipal(actor, invitationId, tx))!),
      });
    });
  }

  /** Public: what the link shows. Unknown, used, revoked and expired tokens are all a 404. */
  async preview(token: string): Promise<InvitationPreviewResponse> {
    const invitation = await this.invitations.findByToken(BearerSecret.hash(token));
    if (invitation?.status !== 'pending') throw ApiException.notFound('Invitation');
    return InvitationPreviewResponse.from(invitation);
  }

  /** The signed-in user joins with the invited role, if the invitation is theirs (same email). */
  async accept(actor: Actor, token: string): Promise<MemberResponse> {
    const orgId = await this.unitOfWork
      .run(async (tx) => {
        const invitation = await this.invitations.findByToken(BearerSecret.hash(token), tx);
        if (invitation?.status !== 'pending') throw ApiException.notFound('Invitation');
        const { email } = await this.users.findActive(actor.id, tx);
        if (email !== invitation.email) {
          throw ApiException.forbidden('This invitation is for another email address: sign in with the invited one');
        }
        await this.members.join(tx, actor, invitation.orgId, actor.id, invitation.role);
        await this.invitations.markAccepted(tx, invitation.id, actor.id);
        await this.audit.record(tx, actor, {
          orgId: invitation.orgId,
          action: 'invitation.accepted',
          entityType: 'invitation',
          entityId: invitation.id,
          changes: { status: ['pending', 'accepted'], userId: [null, actor.id] },
          data: async () =>
            InvitationResponse.from((await this.invitations.findByToken(BearerSecret.hash(token), tx))!),
        });
        return invitation.orgId;
      })
      .catch((error: unknown) => {
        // Joined meanwhile (added as a member): the whole acceptance rolled back; the invitation stays pending.
        if (isUniqueViolation(error)) throw ApiException.conflict('You are already a member of this organization');
        throw error;
      });
    return this.members.get(orgId, actor.id);
  }

  private invitationMail(invitation: InvitationPreviewRow, token: string): MailContent {
    const inviter = invitation.invitedByName ?? 'Someone';
    const url = `${this.config.appUrl}/invitations/accept?token=${token}`;
    return {
      to: invitation.email,
      subject: `${inviter} invited you to ${invitation.orgName} on Tasklane`,
      lines: [
        `${inviter} invited you to join ${invitation.orgName} on Tasklane as ${article(invitation.role)} ${invitation.role}.`,
      ],
      action: { label: 'Accept the invitation', url },
      footer: [
        `The link works once and expires on ${invitation.expiresAt.toUTCString()}.`,
        `No Tasklane account yet? Sign up with this email address (${invitation.email}) first, then follow the link.`,
        'If you did not expect this invitation, you can ignore this mail.',
      ],
    };
  }
}

const article = (role: string): string => (/^[aeiou]/.test(role) ? 'an' : 'a');
