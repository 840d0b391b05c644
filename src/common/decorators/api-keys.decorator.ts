import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiExtension } from '@nestjs/swagger';
import { ApiErrors } from '../swagger/api-errors.decorator';
import { API_KEYS } from './metadata-keys';

/**
 * What an org API key (contract §18) may reach. Nothing, unless a controller or route opts in
 * with @ApiKeysAccepted() — org content, where the access policy then decides by the key's role;
 * a route inside such a controller opts out with @PeopleOnly(). Elsewhere (/auth/*, /users/*,
 * keys, webhooks, invitations) a key gets 403, and on @AccessTokenOnly() routes 401.
 */
export type ApiKeyAccess = 'accepted' | 'people' | 'unauthenticated';

export const ApiKeysAccepted = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(API_KEYS, 'accepted'), ApiExtension('x-api-keys', true));

export const PeopleOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(API_KEYS, 'people'), ApiExtension('x-api-keys', false), ApiErrors(403));

/** The route is about the signed-in person themselves (GET /auth/me): an API key is no one's credential here (401). */
export const AccessTokenOnly = (): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(API_KEYS, 'unauthenticated'), ApiExtension('x-api-keys', false));
