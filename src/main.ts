import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { resolve } from 'node:path';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { AppConfig, DATA_DIR, developmentJwtSecret, loadEnvironment } from './config/app-config';
import { EnvError } from './config/env.schema';
import { EmbeddedDatabase, ensureDatabase, startEmbeddedPostgres } from './database/embedded-postgres';
import { shutDownGracefully, trackInFlight } from './lifecycle/graceful-shutdown';

const HARD_EXIT_MS = 10_000;

async function bootstrap(): Promise<void> {
  const env = loadEnvironment();
  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = env.DATABASE_URL;
  if (!databaseUrl) {
    console.log(`DATABASE_URL is not set: starting the embedded PostgreSQL (data in ${resolve(DATA_DIR, 'postgres')})`);
    embedded = await startEmbeddedPostgres(resolve(DATA_DIR, 'postgres'), { persistent: true });
    databaseUrl = await ensureDatabase(embedded.adminUrl, 'tasklane');
  }
  const config = new AppConfig({ env, databaseUrl, jwtSecret: env.JWT_SECRET ?? developmentJwtSecret() });

  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  await configureApp(app, config);
  await app.listen(env.PORT, env.HOST);
  const inFlight = trackInFlight(app.getHttpServer());
  const shownHost = env.HOST === '0.0.0.0' ? 'localhost' : env.HOST;
  console.log(
    `Tasklane listening on http://${shownHost}:${env.PORT} — Swagger UI at http://${shownHost}:${env.PORT}/docs`,
  );

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: shutting down`);
    setTimeout(() => process.exit(1), HARD_EXIT_MS).unref();
    shutDownGracefully(app, inFlight, env.SHUTDOWN_TIMEOUT_MS)
      .then(() => embedded?.stop())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error('Shutdown failed', error);
        process.exit(1);
      });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof EnvError ? error.message : error);
  process.exit(1);
});
