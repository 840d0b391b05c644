import { applyDecorators, HttpStatus, Type } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import { ERROR_CODES, ErrorCode } from '../http/api-exception';
import { STRING_PATTERNS } from './string-formats';

export class ResponseMeta {
  @ApiProperty({
    description: 'Equal to the X-Request-Id response header',
    maxLength: 128,
    pattern: STRING_PATTERNS.requestId,
    example: '6f1c2b9e-2f4e-4c1f-9d5e-1a2b3c4d5e6f',
  })
  requestId: string;
}

export class PageInfo {
  @ApiProperty({ minimum: 1, maximum: 100, example: 20 })
  limit: number;

  @ApiProperty({
    type: String,
    nullable: true,
    maxLength: 2048,
    pattern: STRING_PATTERNS.cursor,
    description: 'Pass as `cursor` for the next page; null on the last page',
  })
  nextCursor: string | null;
}

export class ListMeta extends ResponseMeta {
  @ApiProperty({ type: PageInfo })
  page: PageInfo;
}

export class ErrorDetail {
  @ApiProperty({
    maxLength: 256,
    pattern: STRING_PATTERNS.text,
    example: 'email',
    description:
      'The body property (dotted for nested ones, e.g. `labels.0`), query parameter, path parameter or header',
  })
  field: string;

  @ApiProperty({ maxLength: 1024, pattern: STRING_PATTERNS.text, example: 'email must be an email' })
  message: string;
}

export class ErrorObject {
  @ApiProperty({ minimum: 400, maximum: 599, example: 400 })
  status: number;

  @ApiProperty({ enum: ERROR_CODES, enumName: 'ErrorCode', example: 'VALIDATION_FAILED' })
  code: ErrorCode;

  @ApiProperty({ maxLength: 1024, pattern: STRING_PATTERNS.text, example: 'Request validation failed' })
  message: string;

  @ApiProperty({ type: [ErrorDetail], required: false, maxItems: 1000, description: 'Present for validation errors' })
  details?: ErrorDetail[];

  @ApiProperty({ maxLength: 128, pattern: STRING_PATTERNS.requestId })
  requestId: string;
}

export class ErrorEnvelope {
  @ApiProperty({ type: ErrorObject })
  error: ErrorObject;
}

const envelopes = new Map<string, Type>();

/** A named schema per resource, `{data: Model, meta}` with `data` required. */
function namedEnvelope(model: Type, list: boolean): Type {
  const name = `${model.name}${list ? 'List' : ''}Envelope`;
  const existing = envelopes.get(name);
  if (existing) return existing;
  class Envelope {}
  ApiProperty({ type: list ? [model] : model, ...(list ? { maxItems: 100 } : {}) })(Envelope.prototype, 'data');
  ApiProperty({ type: list ? ListMeta : ResponseMeta })(Envelope.prototype, 'meta');
  Object.defineProperty(Envelope, 'name', { value: name });
  envelopes.set(name, Envelope);
  return Envelope;
}

export const ApiEnvelope = (
  model: Type,
  status: HttpStatus = HttpStatus.OK,
  description = 'Success',
): MethodDecorator => applyDecorators(ApiResponse({ status, description, type: namedEnvelope(model, false) }));

export const ApiListEnvelope = (model: Type, description = 'One page of the list'): MethodDecorator =>
  applyDecorators(ApiResponse({ status: HttpStatus.OK, description, type: namedEnvelope(model, true) }));
