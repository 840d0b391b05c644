import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { requireAccess } from '../access/access-policy';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { isUniqueViolation } from '../database/database-errors';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { CreateOrgDto, ListOrgsQuery, UpdateOrgDto } from './dto/org.dto';
import { MembersService } from './members.service';
import { OrgResponse } from './org.response';
import { OrgsRepository, OrgWithRole } from './orgs.repository';

const SORT_COLUMNS = { createdAt: 'o.created_at', name: 'o.name' } as const;
const AUDITED = ['name', 'slug'] as const;
const GONE = { name: null, slug: null };

const slugTaken = (): ApiException => ApiException.conflict('An organization with this slug already exists');

/** A slug from a name: "Acme Inc." → "acme-inc". */
export function slugFrom(name: string): string {
  const slug = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return slug.length >= 2 ? slug : `org-${slug}`.replace(/-$/, '');
}

@Injectable()
export class OrgsService {
  constructor(
    private readonly orgs: OrgsRepository,
    private readonly members: MembersService,
    private readonly audit: AuditService,
    private readonly fileDeletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  /** The creator becomes its owner. Without a slug one is derived from the name. */
  async create(actor: Actor, input: CreateOrgDto): Promise<OrgResponse> {
    try {
      return await this.insert(actor, input.name, input.slug ?? slugFrom(input.name));
    } catch (error) {
      if (!isUniqueViolation(error, 'orgs_slug_key')) throw error;
      if (input.slug !== undefined) throw slugTaken();
      // The derived slug is taken: a short random suffix makes it unique.
      return this.insert(actor, input.name, `${slugFrom(input.name)}-${randomBytes(3).toString('hex')}`);
    }
  }

  private insert(actor: Actor, name: string, slug: string): Promise<OrgResponse> {
    return this.unitOfWork.run(async (tx) => {
      const org = await this.orgs.insert(tx, name, slug);
      await this.audit.record(tx, actor, {
        orgId: org.id,
        action: 'org.created',
        entityType: 'org',
        entityId: org.id,
        changes: diffChanges({}, org, AUDITED),
        data: OrgResponse.from(org),
      });
      await this.members.join(tx, actor, org.id, actor.id, 'owner');
      return OrgResponse.from(org);
    });
  }

  /** The orgs the caller belongs to. */
  listMine(principal: Principal, query: ListOrgsQuery): Promise<Page<OrgResponse>> {
    const field = query.sort.replace('-', '') as keyof typeof SORT_COLUMNS;
    return this.orgs.listForPrincipal(principal, {
      scope: listScope('orgs', { userId: principal.id, sort: query.sort }),
      sortColumn: SORT_COLUMNS[field],
      idColumn: 'o.id',
      direction: query.sort.startsWith('-') ? 'DESC' : 'ASC',
      position: (o) => [field === 'name' ? o.name : o.createdAt.toISOString(), o.id],
      map: OrgResponse.from,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  /** One statement: the org and the caller's membership; not a member → 404. */
  async get(principal: Principal, orgId: string): Promise<OrgResponse> {
    const org = await this.orgs.findForPrincipal(principal, orgId);
    if (!org) throw ApiException.notFound('Organization');
    requireAccess(principal, 'org.read', org);
    return OrgResponse.from(org);
  }

  /** Admin+. */
  async update(actor: Actor, orgId: string, changes: UpdateOrgDto, expected: ExpectedVersions): Promise<OrgResponse> {
    try {
      return await this.unitOfWork.run(async (tx) => {
        const current = await this.lockForChange(tx, actor, orgId, 'org.update', expected);
        const audited = diffChanges(current, changes, AUDITED);
        if (Object.keys(audited).length === 0) return OrgResponse.from(current);
        const response = OrgResponse.from(await this.orgs.update(tx, orgId, changes));
        await this.audit.record(tx, actor, {
          orgId,
          action: 'org.updated',
          entityType: 'org',
          entityId: orgId,
          changes: audited,
          data: response,
        });
        return response;
      });
    } catch (error) {
      if (isUniqueViolation(error, 'orgs_slug_key')) throw slugTaken();
      throw error;
    }
  }

  /** Owners only. Projects, tasks and memberships go with it, attachments' files once it commits; its audit trail stays. */
  async delete(actor: Actor, orgId: string, expected: ExpectedVersions): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const current = await this.lockForChange(tx, actor, orgId, 'org.delete', expected);
      await this.orgs.delete(tx, orgId);
      await this.audit.record(tx, actor, {
        orgId,
        action: 'org.deleted',
        entityType: 'org',
        entityId: orgId,
        changes: diffChanges(current, GONE, AUDITED),
        data: OrgResponse.from(current),
      });
      this.fileDeletions.drainAfter(tx);
    });
  }

  private async lockForChange(
    tx: Transaction,
    principal: Principal,
    orgId: string,
    action: 'org.update' | 'org.delete',
    expected: ExpectedVersions,
  ): Promise<OrgWithRole> {
    const current = await this.orgs.lockForPrincipal(tx, principal, orgId);
    if (!current) throw ApiException.notFound('Organization');
    requireAccess(principal, action, current);
    if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
    return current;
  }
}
