import { HttpStatus, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiException } from './api-exception';

/** A path parameter that must be a UUID; anything else is a 400 naming the parameter. */
export const UuidParam = (name: string): ParameterDecorator =>
  Param(
    name,
    new ParseUUIDPipe({
      exceptionFactory: () =>
        new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request validation failed', [
          { field: name, message: `${name} must be a UUID` },
        ]),
    }),
  );
