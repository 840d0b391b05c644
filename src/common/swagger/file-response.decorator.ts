import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { MAX_UPLOAD_MAX_BYTES } from '../../config/env.schema';
import { ApiErrors } from './api-errors.decorator';
import { STRING_PATTERNS } from './string-formats';

const binary = (types: readonly string[]) =>
  Object.fromEntries(
    types.map((type) => [type, { schema: { type: 'string', format: 'binary', maxLength: MAX_UPLOAD_MAX_BYTES } }]),
  );

/**
 * The longest Content-Disposition sent: a sanitized filename has at most 200 code points
 * (common/uploads/filename.ts), and one outside the BMP costs 2 characters in the ASCII fallback
 * and 12 percent-encoded in `filename*`.
 */
export const CONTENT_DISPOSITION_MAX_LENGTH = `attachment; filename=""; filename*=UTF-8''`.length + 200 * (2 + 12);

const header = (description: string, schema: Record<string, unknown>) => ({
  description,
  schema: { type: 'string', ...schema },
});

const FILE_HEADERS = {
  'Content-Length': {
    description: 'Bytes in this response',
    schema: { type: 'integer', format: 'int64', minimum: 0, maximum: MAX_UPLOAD_MAX_BYTES },
  },
  'Content-Disposition': header('`attachment` (or `inline` for images) with the filename per RFC 6266', {
    maxLength: CONTENT_DISPOSITION_MAX_LENGTH,
    pattern: STRING_PATTERNS.contentDisposition,
  }),
  ETag: header('A strong tag made from the content’s SHA-256', { maxLength: 66, pattern: STRING_PATTERNS.entityTag }),
  'Accept-Ranges': header('`bytes`', { enum: ['bytes'] }),
  'X-Content-Type-Options': header('`nosniff`', { enum: ['nosniff'] }),
};

/**
 * Documents a route that sends a stored file's bytes (sendStoredFile): 200, 206 for a Range,
 * 304 for a matching If-None-Match, 416 for a range past the end, and the optional headers.
 */
export const ApiFileResponse = (types: readonly string[], description: string): MethodDecorator =>
  applyDecorators(
    ApiHeader({
      name: 'Range',
      required: false,
      description:
        'One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-500`; several ranges, or a malformed header, get the whole file',
      schema: { type: 'string', maxLength: 100, pattern: STRING_PATTERNS.byteRanges },
    }),
    ApiHeader({
      name: 'If-Range',
      required: false,
      description: 'The ETag of the copy you have: a Range is honoured only if it still matches',
      schema: { type: 'string', maxLength: 66, pattern: STRING_PATTERNS.entityTag },
    }),
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'The ETag of the copy you have (or `*`, or a list): 304 if it still matches',
      schema: { type: 'string', maxLength: 256, pattern: STRING_PATTERNS.entityTags },
    }),
    ApiResponse({ status: 200, description, content: binary(types), headers: FILE_HEADERS }),
    ApiResponse({
      status: 206,
      description: 'The requested range',
      content: binary(types),
      headers: {
        ...FILE_HEADERS,
        'Content-Range': header('`bytes start-end/size`', { maxLength: 64, pattern: STRING_PATTERNS.contentRange }),
      },
    }),
    ApiResponse({ status: 304, description: 'Not modified: your copy (If-None-Match) is current' }),
    ApiErrors(404, 416),
  );
