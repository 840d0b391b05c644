import { API_PREFIX, API_VERSION } from './common/http/api-path';
import { VersioningType } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { SwaggerModule } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import helmet, { type HelmetOptions } from 'helmet';
import { routeNotFound, sendError } from './common/http/all-exceptions.filter';
import { inspectRequestInput, limitFormBody, limitJsonBody } from './common/http/input-inspection';
import { assignRequestId } from './common/http/request-id';
import { createValidationPipe } from './common/http/validation';
import { createOpenApiDocument, OPENAPI_JSON_PATH, OPENAPI_YAML_PATH } from './common/swagger/openapi';
import { downloadUrl, keepTokensNotPasswords } from './common/swagger/swagger-ui-plugins';
import { AppConfig } from './config/app-config';
import { MetricsService } from './health/metrics.service';
import { ShutdownState } from './health/shutdown-state';
import { refuseWhileDraining } from './lifecycle/graceful-shutdown';
import { AppLogger } from './logging/app-logger';
import { requestLogger } from './common/http/request-logger';

export const BODY_LIMIT = '1mb';

/**
 * helmet's defaults, on every response (errors, Swagger UI and health included). Swagger UI's
 * page uses inline styles and data: images, so those are allowed; scripts stay same-origin.
 */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    directives: { 'img-src': ["'self'", 'data:', 'validator.swagger.io'], 'upgrade-insecure-requests': null },
  },
};

/**
 * Everything applied to the application before it listens. main.ts and the e2e tests call
 * this same function, so the tests exercise the production pipeline. It initialises the app.
 * The order matters: request id, log line and metrics first (so that every response, errors
 * included, carries the id, is logged and counted), then security headers, CORS and body parsing.
 */
export async function configureApp(app: NestExpressApplication, config: AppConfig): Promise<void> {
  const logger = app.get(AppLogger);
  app.useLogger(logger);
  app.flushLogs();
  app.set('trust proxy', config.env.TRUST_PROXY);
  app.set('etag', false); // our ETags come from resource versions, not response hashes

  app.use(requestLogger(logger.requests, [app.get(MetricsService).recordResponse]));
  app.use(helmet(HELMET_OPTIONS));
  app.use(refuseWhileDraining(app.get(ShutdownState)));
  const origins = config.env.CORS_ORIGINS;
  const origin = origins ? (origins.includes('*') ? true : origins) : !config.isProduction;
  // With no origin allowed (production without CORS_ORIGINS) the cors middleware adds nothing
  // to any response, preflights included: then it is not mounted at all.
  if (origin !== false) {
    app.enableCors({
      origin,
      exposedHeaders: [
        'X-Request-Id',
        'ETag',
        'Location',
        'Retry-After',
        'Idempotent-Replayed',
        'X-RateLimit-Limit',
        'X-RateLimit-Remaining',
        'X-RateLimit-Reset',
      ],
      maxAge: 600,
    });
  }
  // Nest reserves `verify` for its rawBody option, which Tasklane does not use.
  app.useBodyParser('json', { limit: BODY_LIMIT, verify: limitJsonBody } as { limit: string });
  app.useBodyParser('urlencoded', {
    limit: BODY_LIMIT,
    extended: false,
    parameterLimit: 100,
    verify: limitFormBody,
  } as { limit: string });
  app.use(inspectRequestInput);

  app.setGlobalPrefix(API_PREFIX, { exclude: ['health/live', 'health/ready', 'metrics'] });
  app.enableVersioning({ type: VersioningType.URI, defaultVersion: API_VERSION });
  app.useGlobalPipes(createValidationPipe());

  SwaggerModule.setup('docs', app, () => createOpenApiDocument(app), {
    jsonDocumentUrl: OPENAPI_JSON_PATH,
    yamlDocumentUrl: OPENAPI_YAML_PATH,
    customSiteTitle: 'Tasklane API',
    swaggerOptions: {
      // A reload stays signed in; what is kept is the access token, never the password.
      persistAuthorization: true,
      plugins: [downloadUrl, keepTokensNotPasswords],
      displayRequestDuration: true,
    },
  });

  await app.init();
  // Nest answers unknown routes under /api and the excluded paths; this answers the rest
  // (say GET /nope) in the same error envelope instead of Express's HTML page.
  app.use((req: Request, res: Response) => sendError(res, assignRequestId(req, res), routeNotFound(req)));
}
