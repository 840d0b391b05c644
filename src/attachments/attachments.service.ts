import { Injectable } from '@nestjs/common';
import { requireAccess } from '../access/access-policy';
import { AuditService } from '../audit/audit.service';
import type { Actor, Principal } from '../common/auth/auth-user';
import { ApiException } from '../common/http/api-exception';
import type { StoredFile } from '../common/http/stored-file.response';
import { inCreationOrder, listScope } from '../common/pagination/cursor-paginator';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import { contentDisposition } from '../common/uploads/filename';
import type { ReceivedUpload } from '../common/uploads/file-upload';
import { Transaction, UnitOfWork } from '../database/unit-of-work';
import { FileDeletionQueue } from '../storage/file-deletion.queue';
import { FileStorage, newStorageKey } from '../storage/file-storage';
import { TasksService } from '../tasks/tasks.service';
import { AttachmentResponse } from './attachment.response';
import { AttachmentsRepository } from './attachments.repository';

const AUDITED = ['taskId', 'filename', 'contentType', 'size', 'sha256'] as const;

/**
 * Files attached to tasks. An upload arrives in a temporary file (FileUploadInterceptor); its
 * row and audit event are written in one transaction, and only once that has committed is the
 * file moved into place. Deleting the row (directly, or with its task, project or org) queues
 * the file for removal in the same transaction (FileDeletionQueue).
 */
@Injectable()
export class AttachmentsService {
  constructor(
    private readonly attachments: AttachmentsRepository,
    private readonly tasks: TasksService,
    private readonly audit: AuditService,
    private readonly storage: FileStorage,
    private readonly deletions: FileDeletionQueue,
    private readonly unitOfWork: UnitOfWork,
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
      return await this.unitOfWork.run((tx) => this.insert(tx, actor, taskId, file, storageKey));
    } catch (error) {
      await this.deletions.abandon(storageKey);
      throw error;
    }
  }

  private async insert(
    tx: Transaction,
    actor: Actor,
    taskId: string,
    file: ReceivedUpload,
    storageKey: string,
  ): Promise<AttachmentResponse> {
    const { orgId } = await this.tasks.authorize(actor, taskId, 'attachment.create', tx);
    const row = await this.attachments.insert(tx, {
      taskId,
      orgId,
      filename: file.filename,
      contentType: file.contentType,
      size: file.size,
      sha256: file.sha256,
      storageKey,
      uploadedBy: actor.id,
    });
    const response = AttachmentResponse.from(row);
    await this.audit.record(tx, actor, {
      orgId,
      action: 'attachment.created',
      entityType: 'attachment',
      entityId: row.id,
      changes: Object.fromEntries(AUDITED.map((field) => [field, [null, response[field]]])),
      data: response,
    });
    await this.deletions.claim(tx, storageKey);
    return response;
  }

  /** Any member, newest first. */
  async list(principal: Principal, taskId: string, query: ListQuery): Promise<Page<AttachmentResponse>> {
    await this.tasks.authorize(principal, taskId, 'attachment.read');
    return this.attachments.list(
      principal.id,
      taskId,
      inCreationOrder('a', listScope('attachments', { taskId }), 'DESC', AttachmentResponse.from, query),
    );
  }

  /** Any member: the bytes, with what a download needs to describe them. */
  async content(principal: Principal, attachmentId: string): Promise<StoredFile> {
    const attachment = await this.attachments.findForPrincipal(principal, attachmentId);
    if (!attachment) throw ApiException.notFound('Attachment');
    requireAccess(principal, 'attachment.read', attachment);
    return {
      size: Number(attachment.size),
      contentType: attachment.contentType,
      etag: `"${attachment.sha256}"`,
      contentDisposition: contentDisposition('attachment', attachment.filename),
      open: (range) => this.storage.read(attachment.storageKey, range),
    };
  }

  /** The uploader, or an admin or owner of the org; the file goes once the deletion commits. */
  async delete(actor: Actor, attachmentId: string): Promise<void> {
    await this.unitOfWork.run(async (tx) => {
      const current = await this.attachments.lockForPrincipal(tx, actor, attachmentId);
      if (!current) throw ApiException.notFound('Attachment');
      requireAccess(actor, 'attachment.delete', { role: current.role, ownerId: current.uploadedBy });
      await this.attachments.delete(tx, attachmentId);
      const gone = AttachmentResponse.from(current);
      await this.audit.record(tx, actor, {
        orgId: current.orgId,
        action: 'attachment.deleted',
        entityType: 'attachment',
        entityId: attachmentId,
        changes: Object.fromEntries(AUDITED.map((field) => [field, [gone[field], null]])),
        data: gone,
      });
      this.deletions.drainAfter(tx);
    });
  }
}
