import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { ERROR_DESCRIPTIONS } from './api-errors.decorator';
import { ErrorEnvelope } from './envelope.schemas';
import { errorExamples, oauthErrorExamples, OperationTraits } from './error-examples';
import { STRING_PATTERNS } from './string-formats';

type Response = {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: { $ref?: string }; examples?: unknown }>;
};

type Operation = {
  security?: Record<string, string[]>[];
  responses: Record<string, Response>;
  parameters?: ({ name?: string; in?: string } | { $ref: string })[];
  requestBody?: unknown;
  'x-public'?: boolean;
  'x-api-keys'?: boolean;
};

const DESCRIPTION = `Tasklane is a multi-tenant work-tracking API.

**Envelope.** Every \`/api/v1\` response with a body is \`{data, meta}\` on success (lists add
\`meta.page\` with \`limit\` and \`nextCursor\`) and \`{error: {status, code, message, details?, requestId}}\`
on failure. Every response carries \`X-Request-Id\`.

**Signing in here.** Use *Authorize* → *oauth2 (OAuth2, password)* with your email as username and
your password (leave client id and secret empty), or paste an access token under *bearer*.

**Pagination.** Lists take \`limit\` (1–100, default 20) and \`cursor\` (the previous page's
\`meta.page.nextCursor\`). A cursor is only valid for the list, filters and sort that produced it.

**Concurrency.** Editable resources carry \`version\` and an \`ETag\`; send it back in \`If-Match\` to get a
412 instead of overwriting someone else's change.

**Input.** JSON bodies are UTF-8, at most 1 MiB, 2,000 values (413 beyond) and 64 levels deep
(400 \`MALFORMED_BODY\`). Unknown properties are refused and named (400 \`VALIDATION_FAILED\`), keys named
\`__proto__\`, \`constructor\` or \`prototype\` at any depth included; so are strings holding a lone UTF-16
surrogate or a NUL character, and query strings whose percent-encoding is not UTF-8. Dates are
\`YYYY-MM-DD\`; dates and times are RFC 3339 with seconds, at most 6 fraction digits and \`Z\` or an offset.
At most 20 problems are listed in \`details\`.`;

const JWT_PRACTICES =
  'Access tokens are JWTs following RFC8725 (JSON Web Token Best Current Practices): HS256 only (alg none and other algorithms are refused), issuer, audience, token type, issue time and expiry (required, within the configured lifetime) checked.';

export const OPENAPI_JSON_PATH = 'docs/openapi.json';
export const OPENAPI_YAML_PATH = 'docs/openapi.yaml';

/** The operations' tags, declared once with what each group is. */
const TAGS: [name: string, description: string][] = [
  ['auth', 'Register, sign in (also the OAuth2 password grant), refresh, sign out, password reset and own sessions'],
  ['users', 'Accounts: the signed-in user, platform admins managing users, avatars'],
  ['orgs', 'Organizations and their members with roles (owner, admin, member, viewer)'],
  ['invitations', 'Inviting people into an organization by email, previewing and accepting an invitation'],
  ['projects', 'Projects of an organization'],
  ['tasks', 'Tasks of a project: filters, sorts, full-text search, optimistic concurrency'],
  ['comments', 'Comments on tasks'],
  ['attachments', 'Files attached to tasks: upload, download with ranges, delete'],
  ['audit', 'The append-only audit trail of an organization'],
  ['api-keys', 'Org API keys for integrations (`tl_…`), role-limited and revocable'],
  ['webhooks', 'Signed event deliveries (Standard Webhooks) to your URLs, their delivery log, redeliver and ping'],
];

/** Builds the OpenAPI document and adds what every operation shares. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('Tasklane API')
    .setDescription(DESCRIPTION)
    .setVersion('1.0.0')
    .setLicense('Proprietary', 'https://tasklane.example.com/terms')
    .setExternalDoc('The YAML form of this document', `/${OPENAPI_YAML_PATH}`)
    .addOAuth2(
      {
        type: 'oauth2',
        description: `OAuth2 password grant at /api/v1/auth/token (public client: leave client id and secret empty). ${JWT_PRACTICES}`,
        flows: { password: { tokenUrl: '/api/v1/auth/token', refreshUrl: '/api/v1/auth/token', scopes: {} } },
      },
      'oauth2',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'JWT',
        description: `An accessToken from register, login or refresh. ${JWT_PRACTICES}`,
      },
      'bearer',
    )
    .addBearerAuth(
      {
        type: 'http',
        scheme: 'bearer',
        bearerFormat: 'tl_<prefix>_<secret>',
        description:
          'An org API key (`tl_…`, from POST /api/v1/orgs/{orgId}/api-keys), sent as `Authorization: Bearer tl_…`. It acts with its role inside its own organization only, on the operations that list this scheme; elsewhere it gets 403 (GET /auth/me: 401).',
      },
      'apiKey',
    )
    .build();
  config.tags = TAGS.map(([name, description]) => ({ name, description }));
  const document = SwaggerModule.createDocument(app, config, { extraModels: [ErrorEnvelope] });
  // Relative, so the document is right wherever it is served (local, staging or production).
  document.servers = [
    {
      url: '/',
      description: 'The server serving this document (local, staging or production)',
      'x-internal': false,
    } as never,
  ];
  addSharedResponses(document);
  unwrapSingleAllOf(document);
  return document;
}

const int32 = (minimum: number, maximum: number) => ({ type: 'integer', format: 'int32', minimum, maximum });

const ERROR_ENVELOPE = '#/components/schemas/ErrorEnvelope';
const WRITES = ['post', 'put', 'patch'];
const OAUTH_ERROR = '#/components/schemas/OAuthErrorResponse';

function errorResponse(status: number): Response {
  return {
    description: ERROR_DESCRIPTIONS[status],
    content: { 'application/json': { schema: { $ref: ERROR_ENVELOPE } } },
  };
}

/** What the operation takes, for its error examples. */
function traitsOf(method: string, operation: Operation): OperationTraits {
  const named = (operation.parameters ?? []).filter((p): p is { name: string; in: string } => 'name' in p);
  return {
    hasBody: operation.requestBody !== undefined,
    isWrite: WRITES.includes(method),
    isList: named.some((p) => p.in === 'query' && p.name === 'cursor'),
    idempotent: named.some((p) => p.in === 'header' && p.name === 'Idempotency-Key'),
    pathParameter: named.find((p) => p.in === 'path')?.name,
  };
}

/**
 * OAS 3.0 ignores the siblings of a `$ref`, so Nest wraps a referenced enum in `allOf` to give it
 * a description or an example; without any, the wrapper says nothing: the `$ref` alone.
 */
function unwrapSingleAllOf(node: unknown): void {
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    const schema = value as { allOf?: unknown[] } | null;
    if (schema && typeof schema === 'object' && Array.isArray(schema.allOf) && schema.allOf.length === 1) {
      if (Object.keys(schema).length === 1) (node as Record<string, unknown>)[key] = schema.allOf[0];
    }
    unwrapSingleAllOf((node as Record<string, unknown>)[key]);
  }
}

function addSharedResponses(document: OpenAPIObject): void {
  document.components ??= {};
  document.components.headers = {
    'X-Request-Id': {
      description: 'The request id, also in the body',
      schema: { type: 'string', maxLength: 128, pattern: STRING_PATTERNS.requestId },
    },
    'Retry-After': { description: 'Seconds to wait before retrying', schema: int32(1, 86_400) },
    'X-RateLimit-Limit': { description: 'Requests allowed in the window', schema: int32(1, 1_000_000) },
    'X-RateLimit-Remaining': { description: 'Requests left in the window', schema: int32(0, 1_000_000) },
    'X-RateLimit-Reset': { description: 'Seconds until the window resets', schema: int32(0, 86_400) },
    'Access-Control-Allow-Origin': {
      description: 'Sent to allowed origins only (CORS_ORIGINS): the request’s Origin',
      schema: { type: 'string', maxLength: 2048, pattern: '^(\\*|null|[A-Za-z][A-Za-z0-9+.-]*://[^/]+)$' },
    },
    'WWW-Authenticate': {
      description: 'The Bearer challenge',
      schema: { type: 'string', maxLength: 256, pattern: '^Bearer( .*)?$' },
    },
  };
  document.components.parameters = {
    'X-Request-Id': {
      name: 'X-Request-Id',
      in: 'header',
      required: false,
      description: 'Your id for this request (1–128 of `A-Za-z0-9._-`); echoed back, or one is made',
      schema: { type: 'string', pattern: STRING_PATTERNS.requestId, maxLength: 128 },
    },
  };
  const rateLimitHeaders = {
    'X-RateLimit-Limit': { $ref: '#/components/headers/X-RateLimit-Limit' },
    'X-RateLimit-Remaining': { $ref: '#/components/headers/X-RateLimit-Remaining' },
    'X-RateLimit-Reset': { $ref: '#/components/headers/X-RateLimit-Reset' },
  };

  for (const pathItem of Object.values(document.paths)) {
    for (const [method, operation] of Object.entries(pathItem) as [string, Operation][]) {
      if (typeof operation !== 'object' || !operation.responses) continue;
      const isPublic = operation['x-public'] === true;
      const acceptsApiKeys = operation['x-api-keys'] === true;
      delete operation['x-public'];
      delete operation['x-api-keys'];
      // `[{}]`: anonymous access, stated explicitly.
      operation.security = isPublic
        ? [{}]
        : [{ oauth2: [] }, { bearer: [] }, ...(acceptsApiKeys ? [{ apiKey: [] }] : [])];
      operation.parameters = [...(operation.parameters ?? []), { $ref: '#/components/parameters/X-Request-Id' }];

      if (!isPublic) operation.responses['401'] ??= errorResponse(401);
      // Any write may come with a body that does not parse (400 MALFORMED_BODY), one it takes or not.
      if (operation.requestBody || WRITES.includes(method)) {
        operation.responses['400'] ??= errorResponse(400);
      }
      // Any body can be over its limits (1 MiB, 2,000 JSON values); any request can meet a
      // database that is down or an instance that is shutting down.
      if (operation.requestBody) operation.responses['413'] ??= errorResponse(413);
      operation.responses['429'] ??= errorResponse(429);
      operation.responses['500'] ??= errorResponse(500);
      operation.responses['503'] ??= errorResponse(503);
      const traits = traitsOf(method, operation);
      for (const [status, shared] of Object.entries(operation.responses)) {
        // A copy: Nest shares one response object among the operations of a class-level decorator.
        const response = (operation.responses[status] = { ...shared });
        const code = Number(status);
        const json = response.content?.['application/json'];
        if (code >= 400 && json?.schema?.$ref === ERROR_ENVELOPE) {
          response.content = { 'application/json': { schema: json.schema, examples: errorExamples(code, traits) } };
        }
        if (code >= 400 && json?.schema?.$ref === OAUTH_ERROR) {
          response.content = { 'application/json': { schema: json.schema, examples: oauthErrorExamples(code) } };
        }
        response.headers = {
          'X-Request-Id': { $ref: '#/components/headers/X-Request-Id' },
          'Access-Control-Allow-Origin': { $ref: '#/components/headers/Access-Control-Allow-Origin' },
          ...(code < 500 ? rateLimitHeaders : {}),
          ...(code === 401 ? { 'WWW-Authenticate': { $ref: '#/components/headers/WWW-Authenticate' } } : {}),
          ...(code === 429 || code === 503 ? { 'Retry-After': { $ref: '#/components/headers/Retry-After' } } : {}),
          ...response.headers,
        };
      }
    }
  }
}
