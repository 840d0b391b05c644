import { ApiProperty } from '@nestjs/swagger';
import { MAX_UPLOAD_MAX_BYTES } from '../config/env.schema';
import { ATTACHMENT_TYPES } from '../common/uploads/content-sniffer';
import type { Attachment } from './attachment.entity';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export class AttachmentResponse {
  @ApiProperty({ format: 'uuid', maxLength: 36 })
  id: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  taskId: string;

  @ApiProperty({
    minLength: 1,
    maxLength: 255,
    pattern: STRING_PATTERNS.text,
    example: 'screenshot.png',
    description: "The client's filename, sanitized: no path, no control characters",
  })
  filename: string;

  @ApiProperty({
    enum: ATTACHMENT_TYPES,
    enumName: 'AttachmentContentType',
    description: "Detected from the file's bytes, not taken from the client",
  })
  contentType: string;

  @ApiProperty({ type: 'integer', format: 'int64', minimum: 1, maximum: MAX_UPLOAD_MAX_BYTES, description: 'Bytes' })
  size: number;

  @ApiProperty({ pattern: '^[0-9a-f]{64}$', minLength: 64, maxLength: 64, description: 'Hex SHA-256 of the bytes' })
  sha256: string;

  @ApiProperty({ format: 'uuid', maxLength: 36 })
  uploadedBy: string;

  @ApiProperty({ format: 'date-time', maxLength: 30 })
  createdAt: string;

  static from(a: Attachment): AttachmentResponse {
    return {
      id: a.id,
      taskId: a.taskId,
      filename: a.filename,
      contentType: a.contentType,
      size: Number(a.size),
      sha256: a.sha256,
      uploadedBy: a.uploadedBy,
      createdAt: a.createdAt.toISOString(),
    };
  }
}
