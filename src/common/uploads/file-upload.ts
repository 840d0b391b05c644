import {
  applyDecorators,
  CallHandler,
  createParamDecorator,
  ExecutionContext,
  HttpStatus,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiBody } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import multer from 'multer';
import { rm } from 'node:fs/promises';
import { finalize, Observable } from 'rxjs';
import { AppConfig } from '../../config/app-config';
import { MAX_UPLOAD_MAX_BYTES } from '../../config/env.schema';
import { IncomingFiles } from '../../storage/incoming-files';
import { Consumes } from '../decorators/consumes.decorator';
import { ApiException } from '../http/api-exception';
import { ApiErrors } from '../swagger/api-errors.decorator';
import { EXTENSIONS, sniffContentType } from './content-sniffer';
import { sanitizeFilename } from './filename';
import { IncomingFile, IncomingFileEngine } from './incoming-file.engine';
import { fieldError, multipartError, tooLarge } from './multipart-errors';

export const MULTIPART_BODY = 'multipart/form-data';
/** Boundaries and part headers around the file: a few hundred bytes, and at most the limits below allow. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;
const UPLOAD_OPTIONS = 'tasklane:upload';

export interface UploadOptions {
  /** The content types accepted, as sniffed from the bytes. */
  accept: readonly string[];
  /** The largest file accepted; UPLOAD_MAX_BYTES when not given. */
  maxBytes?: number;
  /** For the OpenAPI document: what the file is and what is accepted. */
  description: string;
}

/** An upload that passed every check, still in its temporary file until a service stores it. */
export interface ReceivedUpload {
  path: string;
  /** Sanitized; never used as a path. */
  filename: string;
  /** From the bytes, never from the client. */
  contentType: string;
  size: number;
  sha256: string;
}

type UploadRequest = Request & { file?: IncomingFile; upload?: ReceivedUpload };

/**
 * Receives the multipart body of an upload route: exactly one file in the field `file`, every
 * multer limit set, streamed to a temporary file while its sha256 and size are computed, and
 * its type taken from its bytes. The handler gets a ReceivedUpload; whatever it did not store
 * is removed once it is done, so a failed request leaves no file behind.
 */
@Injectable()
export class FileUploadInterceptor implements NestInterceptor {
  private readonly engine: IncomingFileEngine;

  constructor(
    private readonly reflector: Reflector,
    private readonly config: AppConfig,
    incoming: IncomingFiles,
  ) {
    this.engine = new IncomingFileEngine(() => incoming.newPath());
  }

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const options = this.reflector.get<UploadOptions>(UPLOAD_OPTIONS, context.getHandler());
    const req = context.switchToHttp().getRequest<UploadRequest>();
    const res = context.switchToHttp().getResponse<Response>();
    const maxBytes = options.maxBytes ?? this.config.env.UPLOAD_MAX_BYTES;
    // A body announced larger than the file may be (with room for the multipart framing) is
    // refused before it is read.
    if (Number(req.headers['content-length']) > maxBytes + MULTIPART_OVERHEAD_BYTES) throw tooLarge(maxBytes);
    await this.receive(req, res, maxBytes);
    const file = req.file;
    try {
      req.upload = await this.check(req, file, options);
    } catch (error) {
      if (file) await rm(file.path, { force: true });
      throw error;
    }
    return next.handle().pipe(finalize(() => void rm(file!.path, { force: true })));
  }

  private receive(req: UploadRequest, res: Response, maxBytes: number): Promise<void> {
    const middleware = multer({
      storage: this.engine,
      // Browsers send UTF-8 filenames without saying so.
      defParamCharset: 'utf8',
      limits: {
        fileSize: maxBytes,
        files: 1,
        fields: 4,
        fieldNameSize: 100,
        fieldSize: 1024,
        parts: 5,
        headerPairs: 20,
      },
    }).single('file');
    return new Promise((resolve, reject) =>
      middleware(req, res, (error?: unknown) => (error ? reject(multipartError(error, maxBytes)) : resolve())),
    );
  }

  private async check(
    req: UploadRequest,
    file: IncomingFile | undefined,
    options: UploadOptions,
  ): Promise<ReceivedUpload> {
    // Like JSON bodies, a multipart body carries only the documented fields.
    const unknown = Object.keys(req.body ?? {})[0];
    if (unknown !== undefined) throw fieldError(unknown, `property ${unknown} should not exist`);
    if (!file) throw fieldError('file', `file is required (a ${MULTIPART_BODY} part named "file")`);
    if (file.size === 0) throw fieldError('file', 'file must not be empty');
    const sniffed = await sniffContentType(file);
    if (!sniffed || 'refused' in sniffed || !options.accept.includes(sniffed.contentType)) {
      const what =
        sniffed && 'refused' in sniffed ? sniffed.refused : (sniffed?.contentType ?? 'not a recognised type');
      throw new ApiException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'UNSUPPORTED_MEDIA_TYPE',
        `The file's content is ${what}; accepted: ${options.accept.join(', ')}`,
      );
    }
    return {
      path: file.path,
      filename: sanitizeFilename(file.originalname, `file.${EXTENSIONS[sniffed.contentType]}`),
      contentType: sniffed.contentType,
      size: file.size,
      sha256: file.sha256,
    };
  }
}

/** A route that takes one file as `multipart/form-data` (field `file`), documented for Swagger UI's file picker. */
export const FileUpload = (options: UploadOptions): MethodDecorator =>
  applyDecorators(
    SetMetadata(UPLOAD_OPTIONS, options),
    UseInterceptors(FileUploadInterceptor),
    Consumes(MULTIPART_BODY),
    ApiBody({
      required: true,
      schema: {
        type: 'object',
        required: ['file'],
        additionalProperties: false,
        properties: {
          file: {
            type: 'string',
            format: 'binary',
            // The route's own limit, or the largest UPLOAD_MAX_BYTES can be set to.
            maxLength: options.maxBytes ?? MAX_UPLOAD_MAX_BYTES,
            description: options.description,
          },
        },
      },
    }),
    ApiErrors(413, 415),
  );

/** The file received by @FileUpload. */
export const Upload = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): ReceivedUpload => ctx.switchToHttp().getRequest<UploadRequest>().upload!,
);
