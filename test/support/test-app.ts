import { DynamicModule, ModuleMetadata, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Writable } from 'node:stream';
import { Client } from 'pg';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { AppConfig } from '../../src/config/app-config';
import { parseEnvironment } from '../../src/config/env.schema';
import { LOG_DESTINATION } from '../../src/logging/logging.module';

export const TEST_JWT_SECRET = 'e2e-3f9a7c1d5b8e2a6f4c0d9b7e1a3c5f7d9b2e4a6c';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  dataSource: DataSource;
  databaseUrl: string;
  /** UPLOAD_DIR: a fresh temporary folder unless the test set one. */
  uploadDir: string;
  /** supertest against the listening server */
  http: () => ReturnType<typeof request>;
  server: Server;
  /** The app's log lines, parsed, when created with `captureLogs` (else always empty). */
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Environment variables, as strings, on top of the test defaults. */
  env?: Record<string, string>;
  /** Share another test app's database (two instances of one deployment). */
  databaseUrl?: string;
  /** Extra modules, such as test-only controllers, mounted in the same pipeline. */
  imports?: (Type | DynamicModule)[];
  /** Log at `info` (unless env says otherwise) into `logs` instead of staying silent. */
  captureLogs?: boolean;
}

/** A global module sending the app's log lines into `lines` instead of stdout. */
function logCapture(lines: Record<string, unknown>[]): DynamicModule {
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return {
    module: class LogCaptureModule {},
    global: true,
    providers: [{ provide: LOG_DESTINATION, useValue: destination }],
    exports: [LOG_DESTINATION],
  };
}

function adminUrl(): string {
  const url = process.env.TEST_DATABASE_ADMIN_URL;
  if (!url) throw new Error('TEST_DATABASE_ADMIN_URL is not set: run the tests through jest (global setup)');
  return url;
}

async function onAdminDatabase<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * What production requires of the environment, and nothing more (a random JWT secret of 40
 * characters), for an app on `databaseUrl` that should run as deployed (`extra` on top).
 */
export function productionEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    SMTP_URL: 'smtp://127.0.0.1:9',
    APP_URL: 'https://tasklane.example.com',
    JWT_SECRET: randomBytes(30).toString('base64url'),
    ...extra,
  };
}

/** A fresh, empty database for one test file. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `tasklane_test_${randomBytes(6).toString('hex')}`;
  await onAdminDatabase((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => onAdminDatabase((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * The URL the app is given for `databaseUrl` (a direct one): through the run's PgBouncer when
 * TEST_DATABASE_POOLER=transaction (global-setup.ts), with the matching variables.
 */
function connectionEnv(databaseUrl: string): { url: string; env: Record<string, string> } {
  const port = process.env.TEST_PGBOUNCER_PORT;
  const pooled = new URL(databaseUrl);
  // The bouncer fronts the run's server only (a test may start a PostgreSQL of its own).
  if (!port || pooled.host !== new URL(adminUrl()).host) return { url: databaseUrl, env: {} };
  pooled.hostname = '127.0.0.1';
  pooled.port = port;
  return {
    url: pooled.toString(),
    env: { DATABASE_URL: pooled.toString(), DATABASE_POOLER: 'transaction', DATABASE_DIRECT_URL: databaseUrl },
  };
}

/**
 * The application exactly as main.ts builds it (AppModule + configureApp), listening on an
 * ephemeral port, on its own database unless `databaseUrl` is given.
 */
export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const database = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database!.url;
  const ownUploadDir = options.env?.UPLOAD_DIR ? undefined : mkdtempSync(join(tmpdir(), 'tasklane-uploads-'));
  const connection = connectionEnv(databaseUrl);
  const env = parseEnvironment({
    NODE_ENV: 'test',
    ...connection.env,
    UPLOAD_DIR: ownUploadDir,
    LOG_LEVEL: options.captureLogs ? 'info' : 'silent',
    RATE_LIMIT_PER_MINUTE: '100000',
    LOGIN_RATE_LIMIT_PER_IP: '100000',
    LOGIN_RATE_LIMIT_PER_ACCOUNT: '100000',
    ...options.env,
  });
  if (database && connection.url !== databaseUrl) {
    // What docs/scaling-out.md asks of an operator behind a transaction pooler: the timeouts on
    // the role or database, for statements outside a transaction (transactions set their own).
    await onAdminDatabase((c) =>
      c.query(
        `ALTER DATABASE ${new URL(databaseUrl).pathname.slice(1)} SET statement_timeout = ${env.DB_STATEMENT_TIMEOUT_MS}`,
      ),
    );
  }
  const config = new AppConfig({
    env,
    databaseUrl: connection.url,
    jwtSecret: options.env?.JWT_SECRET ?? TEST_JWT_SECRET,
  });

  const logs: Record<string, unknown>[] = [];
  const root: ModuleMetadata['imports'] = [
    AppModule.register(config),
    ...(options.captureLogs ? [logCapture(logs)] : []),
    ...(options.imports ?? []),
  ];
  const app = await NestFactory.create<NestExpressApplication>(
    { module: class TestRootModule {}, imports: root } as DynamicModule,
    { bodyParser: false, logger: false, abortOnError: false },
  );
  try {
    await configureApp(app, config);
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    // A half-started app keeps its database listener retrying and Jest from exiting.
    await app.close().catch(() => undefined);
    await database?.drop();
    if (ownUploadDir) rmSync(ownUploadDir, { recursive: true, force: true });
    throw error;
  }
  const server = app.getHttpServer() as Server;

  return {
    app,
    config,
    dataSource: app.get(DataSource),
    databaseUrl,
    uploadDir: env.UPLOAD_DIR,
    server,
    http: () => request(server),
    logs,
    close: async () => {
      await app.close();
      await database?.drop();
      if (ownUploadDir) rmSync(ownUploadDir, { recursive: true, force: true });
    },
  };
}
