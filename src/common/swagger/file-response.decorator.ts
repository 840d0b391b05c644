import { applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { MAX_UPLOAD_MAX_BYTES } from '../../config/env.schema';
import { ApiErrors } from './api-errors.decorator';

const binary = (types: readonly string[]) =>
  Object.fromEntries(
    types.map((type) => [type, { schema: { type: 'string', format: 'binary', maxLength: MAX_UPLOAD_MAX_BYTES } }]),
  );

const header = (description: string, maxLength = 256) => ({ description, schema: { type: 'string', maxLength } });

const FILE_HEADERS = {
  'Content-Length': {
    description: 'Bytes in this response',
    schema: { type: 'integer', format: 'int64', minimum: 0, maximum: MAX_UPLOAD_MAX_BYTES },
  },
  'Content-Disposition': header('`attachment` (or `inline` for images) with the filename per RFC 6266', 1024),
  ETag: header('A strong tag made from the content’s SHA-256', 66),
  'Accept-Ranges': header('`bytes`', 5),
  'X-Content-Type-Options': header('`nosniff`', 7),
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
        'One byte range, e.g. `bytes=0-1023`, `bytes=1024-` or `bytes=-500`; several ranges get the whole file',
      schema: { type: 'string', maxLength: 100 },
    }),
    ApiHeader({
      name: 'If-Range',
      required: false,
      description: 'The ETag of the copy you have: a Range is honoured only if it still matches',
      schema: { type: 'string', maxLength: 66 },
    }),
    ApiHeader({
      name: 'If-None-Match',
      required: false,
      description: 'The ETag of the copy you have: 304 if it still matches',
      schema: { type: 'string', maxLength: 256 },
    }),
    ApiResponse({ status: 200, description, content: binary(types), headers: FILE_HEADERS }),
    ApiResponse({
      status: 206,
      description: 'The requested range',
      content: binary(types),
      headers: { ...FILE_HEADERS, 'Content-Range': header('`bytes start-end/size`', 64) },
    }),
    ApiResponse({ status: 304, description: 'Not modified: your copy (If-None-Match) is current' }),
    ApiErrors(404, 416),
  );
