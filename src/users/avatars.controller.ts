import { Controller, Get, Put, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuthUser, CurrentUser } from '../common/auth/auth-user';
import { RawResponse } from '../common/decorators/raw-response.decorator';
import { ConditionalWrite, ExpectedVersions, IfMatch } from '../common/http/etag';
import { sendStoredFile } from '../common/http/stored-file.response';
import { UuidParam } from '../common/http/uuid-param';
import { ApiErrors } from '../common/swagger/api-errors.decorator';
import { ApiEnvelope } from '../common/swagger/envelope.schemas';
import { ApiFileResponse } from '../common/swagger/file-response.decorator';
import { IMAGE_TYPES } from '../common/uploads/content-sniffer';
import { FileUpload, ReceivedUpload, Upload } from '../common/uploads/file-upload';
import { AvatarsService } from './avatars.service';
import { SelfOrAdmin } from './user-access.guard';
import { UserResponse } from './user.response';
import { STRING_PATTERNS } from '../common/swagger/string-formats';

export const AVATAR_MAX_BYTES = 2 * 1024 * 1024;

@ApiTags('users')
@ApiErrors(400)
@Controller('users/:id/avatar')
export class AvatarsController {
  constructor(private readonly avatars: AvatarsService) {}

  @Put()
  @SelfOrAdmin()
  @ConditionalWrite()
  @FileUpload({
    accept: IMAGE_TYPES,
    maxBytes: AVATAR_MAX_BYTES,
    description: 'A PNG, JPEG or WebP image (judged by content), at most 2 MiB',
  })
  @ApiOperation({
    summary: "Set a user's avatar (self or admin)",
    description: 'multipart/form-data with one part, `file`: PNG, JPEG or WebP by content, at most 2 MiB.',
  })
  @ApiEnvelope(UserResponse, 200, 'The user, with its new avatarUrl')
  @ApiErrors(404)
  replace(
    @UuidParam('id') id: string,
    @Upload() file: ReceivedUpload,
    @IfMatch() expected: ExpectedVersions,
  ): Promise<UserResponse> {
    return this.avatars.replace(id, file, expected);
  }

  @Get()
  @RawResponse()
  @ApiOperation({
    summary: "A user's avatar image (self, admins, and members of an org the user belongs to)",
    description: 'The image bytes with their type; 404 when the user has no avatar.',
  })
  @ApiQuery({
    name: 'v',
    required: false,
    description:
      'Ignored, whatever it holds: avatarUrl carries it (16 hex digits of the image’s SHA-256) so that a new image gets a new URL',
    schema: { type: 'string', maxLength: 64, pattern: STRING_PATTERNS.text },
  })
  @ApiFileResponse(IMAGE_TYPES, 'The image')
  async image(
    @CurrentUser() caller: AuthUser,
    @UuidParam('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await sendStoredFile(req, res, await this.avatars.image(caller, id));
  }
}
