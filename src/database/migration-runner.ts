import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';

// Any constant works; it only has to be the same for every instance of Tasklane.
const MIGRATION_LOCK_KEY = 7_251_203_911;

/** Applies pending migrations at boot (MIGRATIONS_RUN), one instance at a time. */
@Injectable()
export class MigrationRunner implements OnModuleInit {
  private readonly logger = new Logger(MigrationRunner.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.env.MIGRATIONS_RUN) await runMigrationsLocked(this.dataSource, (line) => this.logger.log(line));
  }

  /** True when every migration this build knows has been applied. */
  async migrationsApplied(): Promise<boolean> {
    return !(await this.dataSource.showMigrations());
  }
}

export async function runMigrationsLocked(dataSource: DataSource, log?: (line: string) => void): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of applied) log?.(`Applied migration ${migration.name}`);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
