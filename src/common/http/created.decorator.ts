import {
  applyDecorators,
  CallHandler,
  ExecutionContext,
  Injectable,
  NestInterceptor,
  SetMetadata,
  UseInterceptors,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { map, Observable } from 'rxjs';

export const CREATED_LOCATION = 'tasklane:createdLocation';

/** Where a created resource lives, from the resource the handler returns. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each route knows its resource type
export type LocationOf = (resource: any) => string;

/** Sets `Location` from the handler's result (201 is Nest's default for POST). */
@Injectable()
export class CreatedLocationInterceptor implements NestInterceptor {
  constructor(private readonly reflector: Reflector) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const locationOf = this.reflector.get<LocationOf>(CREATED_LOCATION, context.getHandler());
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      map((resource: unknown) => {
        res.location(locationOf(resource));
        return resource;
      }),
    );
  }
}

/**
 * A route that creates a resource: `Location` points at it, built by `location` from the
 * resource. Declared here rather than set by the handler, so that an Idempotency-Key replay can
 * store and replay it with the response, in the transaction that creates the resource.
 */
export const Created = (location: LocationOf): MethodDecorator =>
  applyDecorators(SetMetadata(CREATED_LOCATION, location), UseInterceptors(CreatedLocationInterceptor));
