import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService, diffChanges } from '../audit/audit.service';
import type { Actor } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import { ExpectedVersions, versionMatches } from '../common/http/etag';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';
import { isUniqueViolation } from '../database/database-errors';
import { CreateOrgDto, ListOrgsQuery, UpdateOrgDto } from './dto/org.dto';
import { Org } from './org.entity';
import { OrgResponse } from './org.response';
import { FileDeletionQueue } from '../storage/file-deletion.queue';

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

type OrgWithRole = Org & { role: OrgRole };

@Injectable()
export class OrgsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly paginator: CursorPaginator,
    private readonly fileDeletions: FileDeletionQueue,
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
    return this.dataSource.transaction(async (manager) => {
      const [org]: Org[] = await manager.query(
        `INSERT INTO orgs (name, slug) VALUES ($1, $2)
         RETURNING id, name, slug, created_at AS "createdAt", updated_at AS "updatedAt", version`,
        [name, slug],
      );
      await manager.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`, [
        org.id,
        actor.userId,
      ]);
      await this.audit.record(manager, actor, {
        orgId: org.id,
        action: 'org.created',
        entityType: 'org',
        entityId: org.id,
        changes: diffChanges({}, org, AUDITED),
      });
      await this.audit.record(manager, actor, {
        orgId: org.id,
        action: 'membership.created',
        entityType: 'membership',
        entityId: actor.userId,
        changes: { role: [null, 'owner'] },
      });
      return OrgResponse.from(org);
    });
  }

  /** The orgs the caller belongs to. */
  listMine(userId: string, query: ListOrgsQuery): Promise<Page<OrgResponse>> {
    const qb = this.dataSource
      .createQueryBuilder(Org, 'o')
      .innerJoin('memberships', 'm', 'm.org_id = o.id AND m.user_id = :userId', { userId });
    const field = query.sort.replace('-', '') as keyof typeof SORT_COLUMNS;
    return this.paginator.paginate(qb, {
      scope: listScope('orgs', { userId, sort: query.sort }),
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
  async get(userId: string, orgId: string): Promise<OrgResponse> {
    return OrgResponse.from(await this.findForMember(this.dataSource.manager, userId, orgId, false));
  }

  async update(actor: Actor, orgId: string, changes: UpdateOrgDto, expected: ExpectedVersions): Promise<OrgResponse> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const current = await this.findForMember(manager, actor.userId, orgId, true);
        assertOrgRole(current.role, 'admin', 'change this organization');
        if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
        const audited = diffChanges(current, changes, AUDITED);
        if (Object.keys(audited).length === 0) return OrgResponse.from(current);
        const [[updated]]: [Org[], number] = await manager.query(
          `UPDATE orgs SET name = COALESCE($2, name), slug = COALESCE($3, slug), updated_at = now(), version = version + 1
            WHERE id = $1
            RETURNING id, name, slug, created_at AS "createdAt", updated_at AS "updatedAt", version`,
          [orgId, changes.name ?? null, changes.slug ?? null],
        );
        await this.audit.record(manager, actor, {
          orgId,
          action: 'org.updated',
          entityType: 'org',
          entityId: orgId,
          changes: audited,
        });
        return OrgResponse.from(updated);
      });
    } catch (error) {
      if (isUniqueViolation(error, 'orgs_slug_key')) throw slugTaken();
      throw error;
    }
  }

  /** Owners only. Projects, tasks and memberships go with it; its audit trail stays. */
  async delete(actor: Actor, orgId: string, expected: ExpectedVersions): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, orgId, true);
      assertOrgRole(current.role, 'owner', 'delete this organization');
      if (!versionMatches(expected, current.version)) throw ApiException.preconditionFailed();
      await manager.query('DELETE FROM orgs WHERE id = $1', [orgId]);
      await this.audit.record(manager, actor, {
        orgId,
        action: 'org.deleted',
        entityType: 'org',
        entityId: orgId,
        changes: diffChanges(current, GONE, AUDITED),
      });
    });
    // The attachments of its tasks went with it; their files were queued in the transaction.
    await this.fileDeletions.drain();
  }

  private async findForMember(
    manager: EntityManager,
    userId: string,
    orgId: string,
    lock: boolean,
  ): Promise<OrgWithRole> {
    const [row]: OrgWithRole[] = await manager.query(
      `SELECT o.id, o.name, o.slug, o.created_at AS "createdAt", o.updated_at AS "updatedAt", o.version, m.role
         FROM orgs o JOIN memberships m ON m.org_id = o.id AND m.user_id = $2
        WHERE o.id = $1 ${lock ? 'FOR UPDATE OF o' : ''}`,
      [orgId, userId],
    );
    if (!row) throw ApiException.notFound('Organization');
    return row;
  }
}
