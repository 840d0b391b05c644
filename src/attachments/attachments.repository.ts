import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { joinMembership } from '../access/membership-lookup';
import type { Principal } from '../common/auth/auth-user';
import { CursorPaginator, KeysetPage } from '../common/pagination/cursor-paginator';
import { Page } from '../common/pagination/page';
import type { OrgRole } from '../access/org-roles';
import { Database } from '../database/database';
import type { Transaction } from '../database/unit-of-work';
import { Attachment } from './attachment.entity';

const COLUMNS = `a.id, a.task_id AS "taskId", a.org_id AS "orgId", a.filename, a.content_type AS "contentType",
  a.size, a.sha256, a.storage_key AS "storageKey", a.uploaded_by AS "uploadedBy", a.created_at AS "createdAt"`;
const ATTACHMENT_FOR_PRINCIPAL = `SELECT ${COLUMNS}, m.role FROM attachments a ${joinMembership('a.org_id', '$2')} WHERE a.id = $1`;

export type AttachmentWithRole = Attachment & { role: OrgRole };
export type NewAttachment = Pick<
  Attachment,
  'taskId' | 'orgId' | 'filename' | 'contentType' | 'sha256' | 'storageKey' | 'uploadedBy'
> & { size: number };

/** All SQL for the attachments table (deleting a row queues its file, by the table's trigger). */
@Injectable()
export class AttachmentsRepository {
  constructor(
    @InjectRepository(Attachment) private readonly attachments: Repository<Attachment>,
    private readonly db: Database,
    private readonly paginator: CursorPaginator,
  ) {}

  async insert(tx: Transaction, attachment: NewAttachment): Promise<Attachment> {
    const [row] = await tx.rows<Attachment>({
      text: `INSERT INTO attachments AS a (task_id, org_id, filename, content_type, size, sha256, storage_key, uploaded_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${COLUMNS}`,
      values: [
        attachment.taskId,
        attachment.orgId,
        attachment.filename,
        attachment.contentType,
        attachment.size,
        attachment.sha256,
        attachment.storageKey,
        attachment.uploadedBy,
      ],
    });
    return row;
  }

  /** Newest first. A list may lag: a replica that has `readerId`'s writes may serve it. */
  list<Item>(readerId: string, taskId: string, page: KeysetPage<Attachment, Item>): Promise<Page<Item>> {
    return this.paginator.pageOfStatement(
      page,
      { select: `SELECT ${COLUMNS} FROM attachments a`, where: ['a.task_id = $1'], values: [taskId] },
      (s) => this.db.laggingRows<Attachment>(readerId, s),
    );
  }

  /** The attachment and the principal's role in its org; none when either is missing. */
  async findForPrincipal(principal: Principal, attachmentId: string): Promise<AttachmentWithRole | undefined> {
    const [row] = await this.db.rows<AttachmentWithRole>({
      text: ATTACHMENT_FOR_PRINCIPAL,
      values: [attachmentId, principal.id],
    });
    return row;
  }

  /** The same, locked for the rest of the transaction. */
  async lockForPrincipal(
    tx: Transaction,
    principal: Principal,
    attachmentId: string,
  ): Promise<AttachmentWithRole | undefined> {
    const [row] = await tx.rows<AttachmentWithRole>({
      text: `${ATTACHMENT_FOR_PRINCIPAL} FOR UPDATE OF a`,
      values: [attachmentId, principal.id],
    });
    return row;
  }

  async delete(tx: Transaction, attachmentId: string): Promise<void> {
    await tx.affected({ text: 'DELETE FROM attachments WHERE id = $1', values: [attachmentId] });
  }
}
