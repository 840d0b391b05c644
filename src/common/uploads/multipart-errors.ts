import { HttpStatus } from '@nestjs/common';
import { ApiException } from '../http/api-exception';

const TOO_LARGE = new Set([
  'LIMIT_PART_COUNT',
  'LIMIT_FIELD_KEY',
  'LIMIT_FIELD_VALUE',
  'LIMIT_FIELD_COUNT',
  'LIMIT_FIELD_NESTING',
  'LIMIT_FIELD_ARRAY_INDEX',
]);

const malformed = (message: string) => new ApiException(HttpStatus.BAD_REQUEST, 'MALFORMED_BODY', message);

export const tooLarge = (maxBytes: number) =>
  new ApiException(HttpStatus.PAYLOAD_TOO_LARGE, 'PAYLOAD_TOO_LARGE', `The file is larger than ${maxBytes} bytes`);

export const fieldError = (field: string, message: string) => ApiException.invalidField(field, message);

/**
 * What went wrong while multer read a multipart body, as the contract's error: limits → 413,
 * a second file or one in another field → 400 naming it, anything the parser could not make
 * sense of (or a body that stopped arriving) → 400 MALFORMED_BODY. Unknown errors pass through.
 */
export function multipartError(error: unknown, maxBytes: number): unknown {
  const { code, field, message } = (error ?? {}) as { code?: unknown; field?: string; message?: string };
  if (code === 'LIMIT_FILE_SIZE') return tooLarge(maxBytes);
  if (typeof code === 'string' && TOO_LARGE.has(code)) {
    return new ApiException(
      HttpStatus.PAYLOAD_TOO_LARGE,
      'PAYLOAD_TOO_LARGE',
      'The multipart body has too many or too large parts; send only the field "file"',
    );
  }
  if (code === 'LIMIT_FILE_COUNT') return fieldError('file', 'send exactly one file');
  if (code === 'LIMIT_UNEXPECTED_FILE') {
    return fieldError(field ?? 'file', `property ${field} should not exist; send the file in the field "file"`);
  }
  if (code === 'MISSING_FIELD_NAME' || code === 'INVALID_FIELD_NAME') {
    return malformed('The multipart body has a part without a valid name');
  }
  if (typeof message === 'string') {
    if (/^Unsupported content type/.test(message)) {
      return new ApiException(
        HttpStatus.UNSUPPORTED_MEDIA_TYPE,
        'UNSUPPORTED_MEDIA_TYPE',
        'Content-Type must be multipart/form-data',
      );
    }
    if (/^(Multipart: Boundary not found|Malformed part header|Unexpected end of (form|file))/.test(message)) {
      return malformed(`The multipart body could not be parsed (${message})`);
    }
    if (/^Request (aborted|closed)$/.test(message)) return malformed('The request body was not received in full');
  }
  return error;
}
