import { Controller, Delete, Get, HttpCode, HttpStatus, Post, Query, Req, Res } from '@nestjs/common';
import { ApiKeysAccepted } from '../common/decorators/api-keys.decorator';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Actor, CurrentActor } from '../common/auth/auth-user';
import { RawResponse } from '../common/decorators/raw-response.decorator';
import { apiPath } from '../common/http/api-path';
import { Created } from '../common/http/created.decorator';
import { sendStoredFile } from '../common/http/stored-file.response';
import { UuidParam } from '../common/http/uuid-param';
import { ListQuery } from '../common/pagination/list.query';
import { Page } from '../common/pagination/page';
import { ApiErrors, ApiNoContent } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope, ApiListEnvelope } from '../common/swagger/envelope.schemas';
import { ApiFileResponse } from '../common/swagger/file-response.decorator';
import { ATTACHMENT_TYPES } from '../common/uploads/content-sniffer';
import { FileUpload, ReceivedUpload, Upload } from '../common/uploads/file-upload';
import { TaskAccess } from '../tasks/task-access.guard';
import { AttachmentResponse } from './attachment.response';
import { AttachmentsService } from './attachments.service';

const ACCEPTED =
  'images (PNG, JPEG, GIF, WebP), PDF, UTF-8 plain text, Word/Excel/PowerPoint (.docx, .xlsx, .pptx, without macros) and OpenDocument (.odt, .ods, .odp)';

@ApiTags('attachments')
@ApiErrors(400)
@ApiKeysAccepted()
@Controller()
export class AttachmentsController {
  constructor(private readonly attachments: AttachmentsService) {}

  @Post('tasks/:taskId/attachments')
  @TaskAccess('attachment.create')
  @Created((attachment: AttachmentResponse) => apiPath('attachments', attachment.id, 'content'))
  @FileUpload({
    accept: ATTACHMENT_TYPES,
    description: `The file, at most UPLOAD_MAX_BYTES (10 MiB unless configured). Accepted, judged by content: ${ACCEPTED}. HTML, SVG, XML, scripts and executables are refused (415).`,
  })
  @ApiOperation({
    summary: 'Attach a file to a task (member+)',
    description: `multipart/form-data with one part, \`file\`. The type is detected from the bytes (the client's Content-Type and extension are ignored); the filename is sanitized. Accepted: ${ACCEPTED}.`,
  })
  @ApiEnvelope(AttachmentResponse, HttpStatus.CREATED, 'Created; Location points at the content')
  upload(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @Upload() file: ReceivedUpload,
  ): Promise<AttachmentResponse> {
    return this.attachments.upload(actor, taskId, file);
  }

  @Get('tasks/:taskId/attachments')
  @ApiOperation({
    summary: "A task's attachments, newest first (members)",
    description:
      "Any member of the task's organization, viewers and its API keys included (404 for anyone else). Their metadata, paged by cursor; the bytes are at `/attachments/{attachmentId}/content`.",
  })
  @ApiListEnvelope(AttachmentResponse)
  @ApiErrors(404)
  list(
    @CurrentActor() actor: Actor,
    @UuidParam('taskId') taskId: string,
    @Query() query: ListQuery,
  ): Promise<Page<AttachmentResponse>> {
    return this.attachments.list(actor, taskId, query);
  }

  @Get('attachments/:attachmentId/content')
  @RawResponse()
  @ApiOperation({
    summary: "Download an attachment's bytes (members)",
    description:
      'Sent as `Content-Disposition: attachment` with `X-Content-Type-Options: nosniff`; supports a single `Range` (206, or 416 past the end) and conditional requests by ETag.',
  })
  @ApiFileResponse(ATTACHMENT_TYPES, 'The file')
  async content(
    @CurrentActor() actor: Actor,
    @UuidParam('attachmentId') attachmentId: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await sendStoredFile(req, res, await this.attachments.content(actor, attachmentId));
  }

  @Delete('attachments/:attachmentId')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Delete an attachment and its file (the uploader, or an org admin or owner)',
    description:
      'The uploader, or an admin or owner of the organization (403 for others). The file is removed once the deletion commits. Audited (and sent to subscribed webhooks) as `attachment.deleted`.',
  })
  @ApiNoContent('Deleted')
  @ApiErrors(403, 404)
  async remove(@CurrentActor() actor: Actor, @UuidParam('attachmentId') attachmentId: string): Promise<void> {
    await this.attachments.delete(actor, attachmentId);
  }
}
