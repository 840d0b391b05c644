import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { DataSource, MigrationExecutor } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { directDataSourceOptions } from './data-source.options';

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

  /**
   * On a connection of their own, straight to the primary (DATABASE_DIRECT_URL): the session
   * advisory lock must be held by the session doing the work, which a transaction pooler, handing
   * each statement to any server connection, cannot promise.
   */
  async onModuleInit(): Promise<void> {
    if (!this.config.env.MIGRATIONS_RUN) return;
    const direct = new DataSource(directDataSourceOptions(this.config));
    await direct.initialize();
    try {
      await runMigrationsLocked(direct, (line) => this.logger.log(line));
    } finally {
      await direct.destroy();
    }
  }

  /** True when every migration this build knows has been applied. */
  async migrationsApplied(): Promise<boolean> {
    return !(await this.dataSource.showMigrations());
  }
}

/**
 * Applies pending migrations (`revert`: undoes the last one) under a session advisory lock, so
 * that one instance or CLI run at a time migrates. The lock and the migrations use one and the
 * same connection: a lock taken on one connection while migrations wait for another would hang
 * a pool of one (the CLI's), and is not held by the session doing the work.
 */
export async function runMigrationsLocked(
  dataSource: DataSource,
  log?: (line: string) => void,
  action: 'run' | 'revert' = 'run',
): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const executor = new MigrationExecutor(dataSource, runner);
    executor.transaction = 'each';
    if (action === 'revert') {
      await executor.undoLastMigration();
    } else {
      for (const migration of await executor.executePendingMigrations()) log?.(`Applied migration ${migration.name}`);
    }
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
