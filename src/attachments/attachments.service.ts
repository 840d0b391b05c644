import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import type { Actor } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import type { StoredFile } from '../common/http/stored-file.response';
import { CursorPaginator, listScope } from '../common/pagination/cursor-paginator';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import { assertOrgRole, OrgRole } from '../common/tenancy/org-role';
import { contentDisposition } from '../common/uploads/filename';
import type { ReceivedUpload } from '../common/uploads/file-upload';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { FileStorage, newStorageKey } from '../storage/file-storage';
import { findTaskMembership } from '../tasks/task-access';
import { Attachment } from './attachment.entity';
import { AttachmentResponse } from './attachment.response';

const COLUMNS = `a.id, a.task_id AS "taskId", a.org_id AS "orgId", a.filename, a.content_type AS "contentType",
  a.size, a.sha256, a.storage_key AS "storageKey", a.uploaded_by AS "uploadedBy", a.created_at AS "createdAt"`;
const AUDITED = ['taskId', 'filename', 'contentType', 'size', 'sha256'] as const;

type AttachmentWithRole = Attachment & { role: OrgRole };

/**
 * Files attached to tasks. An upload arrives in a temporary file (FileUploadInterceptor); its
 * row and audit event are written in one transaction, and only once that has committed is the
 * file moved into place. Deleting the row (directly, or with its task, project or org) queues
 * the file for removal in the same transaction (FileDeletionQueue).
 */
@Injectable()
export class AttachmentsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly audit: AuditService,
    private readonly paginator: CursorPaginator,
    private readonly storage: FileStorage,
    private readonly deletions: FileDeletionQueue,
  ) {}

  /**
   * Members and up. The file is stored first, under a reservation (FileDeletionQueue), and the
   * row that names it, its audit event and the claim of the reservation commit together: a row
   * never exists without its file, and a failed upload's file is removed.
   */
  async upload(actor: Actor, taskId: string, file: ReceivedUpload): Promise<AttachmentResponse> {
    const storageKey = newStorageKey('attachments');
    await this.deletions.reserve(storageKey);
    try {
      await this.storage.save(storageKey, file.path);
      return await this.dataSource.transaction((manager) => this.insert(manager, actor, taskId, file, storageKey));
    } catch (error) {
      await this.deletions.abandon(storageKey);
      throw error;
    }
  }

  private async insert(
    manager: EntityManager,
    actor: Actor,
    taskId: string,
    file: ReceivedUpload,
    storageKey: string,
  ): Promise<AttachmentResponse> {
    const { orgId, role } = await findTaskMembership(manager, actor.userId, taskId, true);
    assertOrgRole(role, 'member', 'upload attachments');
    const [row]: Attachment[] = await manager.query(
      `INSERT INTO attachments AS a (task_id, org_id, filename, content_type, size, sha256, storage_key, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      [taskId, orgId, file.filename, file.contentType, file.size, file.sha256, storageKey, actor.userId],
    );
    const response = AttachmentResponse.from(row);
    await this.audit.record(manager, actor, {
      orgId,
      action: 'attachment.created',
      entityType: 'attachment',
      entityId: row.id,
      changes: Object.fromEntries(AUDITED.map((field) => [field, [null, response[field]]])),
    });
    await this.deletions.claim(manager, storageKey);
    return response;
  }

  /** Any member, newest first. */
  async list(userId: string, taskId: string, query: ListQuery): Promise<Page<AttachmentResponse>> {
    await findTaskMembership(this.dataSource.manager, userId, taskId);
    const qb = this.dataSource.createQueryBuilder(Attachment, 'a').where('a.task_id = :taskId', { taskId });
    return this.paginator.paginate(qb, {
      scope: listScope('attachments', { taskId }),
      sortColumn: 'a.created_at',
      idColumn: 'a.id',
      direction: 'DESC',
      position: (a) => [a.createdAt.toISOString(), a.id],
      map: AttachmentResponse.from,
      limit: query.limit,
      cursor: query.cursor,
    });
  }

  /** Any member: the bytes, with what a download needs to describe them. */
  async content(userId: string, attachmentId: string): Promise<StoredFile> {
    const attachment = await this.findForMember(this.dataSource.manager, userId, attachmentId);
    return {
      size: Number(attachment.size),
      contentType: attachment.contentType,
      etag: `"${attachment.sha256}"`,
      contentDisposition: contentDisposition('attachment', attachment.filename),
      open: (range) => this.storage.read(attachment.storageKey, range),
    };
  }

  /** The uploader, or an admin or owner of the org. */
  async delete(actor: Actor, attachmentId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      const current = await this.findForMember(manager, actor.userId, attachmentId, true);
      if (current.uploadedBy !== actor.userId) assertOrgRole(current.role, 'admin', "delete others' attachments");
      // The trigger on attachments queues the file in this transaction.
      await manager.query('DELETE FROM attachments WHERE id = $1', [attachmentId]);
      const gone = AttachmentResponse.from(current);
      await this.audit.record(manager, actor, {
        orgId: current.orgId,
        action: 'attachment.deleted',
        entityType: 'attachment',
        entityId: attachmentId,
        changes: Object.fromEntries(AUDITED.map((field) => [field, [gone[field], null]])),
      });
    });
    await this.deletions.drain();
  }

  private async findForMember(
    manager: EntityManager,
    userId: string,
    attachmentId: string,
    lock = false,
  ): Promise<AttachmentWithRole> {
    const [row]: AttachmentWithRole[] = await manager.query(
      `SELECT ${COLUMNS}, m.role FROM attachments a
         JOIN memberships m ON m.org_id = a.org_id AND m.user_id = $2
        WHERE a.id = $1 ${lock ? 'FOR UPDATE OF a' : ''}`,
      [attachmentId, userId],
    );
    if (!row) throw ApiException.notFound('Attachment');
    return row;
  }
}
