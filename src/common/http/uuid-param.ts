import { Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiParam } from '@nestjs/swagger';
import { ApiException } from './api-exception';

/** Any UUID, in either case (ids are handed on lower-case). */
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The 400 for a path parameter that is not a UUID. */
export function notAUuid(name: string): ApiException {
  return ApiException.invalidField(name, `${name} must be a UUID`);
}

/**
 * A path parameter that must be a UUID; anything else is a 400 naming the parameter. It also
 * documents the parameter in OpenAPI, so validation and documentation cannot drift apart.
 * UUIDs are case-insensitive: the value is handed on lower-case, as PostgreSQL returns ids, so
 * that comparing it with an id (the caller's own, say) does not depend on the client's case.
 */
export const UuidParam =
  (name: string): ParameterDecorator =>
  (target, key, index) => {
    Param(
      name,
      new ParseUUIDPipe({
        exceptionFactory: () => notAUuid(name),
      }),
      { transform: (value: string) => value.toLowerCase() },
    )(target, key, index);
    if (key === undefined) return;
    ApiParam({ name, schema: { type: 'string', format: 'uuid', maxLength: 36 } })(
      target,
      key,
      Object.getOwnPropertyDescriptor(target, key)!,
    );
  };
