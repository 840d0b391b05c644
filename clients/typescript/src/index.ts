/**
 * @tasklane/client: a typed client for the Tasklane API. The types come from the API's OpenAPI
 * document (schema.ts, generated); client.ts adds authentication, pagination, idempotency keys,
 * retries and typed errors on top of openapi-fetch.
 */
export { createTasklaneClient } from './client';
export type {
  Call,
  Credentials,
  ItemOf,
  ListPath,
  SessionTokens,
  Success,
  TasklaneClient,
  TasklaneClientOptions,
  Tokens,
} from './client';
export { TasklaneError } from './errors';
export type { ErrorCode, ErrorDetail, ErrorEnvelope } from './errors';
export type { components, operations, paths } from './schema';
import type { components } from './schema';

/** The API's schemas by name, such as `Schemas['TaskResponse']`. */
export type Schemas = components['schemas'];
