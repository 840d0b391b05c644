import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiConsumes } from '@nestjs/swagger';
import { CONSUMES } from './metadata-keys';

export const JSON_BODY = 'application/json';
export const FORM_BODY = 'application/x-www-form-urlencoded';

/**
 * The body types a route accepts (JSON when not stated). Enforced by ContentTypeGuard with a
 * 415, and documented in OpenAPI from the same list.
 */
export const Consumes = (...types: string[]): MethodDecorator =>
  applyDecorators(SetMetadata(CONSUMES, types), ApiConsumes(...types));
