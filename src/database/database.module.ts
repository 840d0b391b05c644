import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AppConfig } from '../config/app-config';
import { dataSourceOptions } from './data-source.options';
import { MigrationRunner } from './migration-runner';
import { Notifications } from './notifications';
import { Database } from './database';
import { ReadReplicas } from './read-replicas';
import { UnitOfWork } from './unit-of-work';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        ...dataSourceOptions({
          databaseUrl: config.databaseUrl,
          poolMax: config.env.DB_POOL_MAX,
          connectionTimeoutMs: config.env.DB_CONNECTION_TIMEOUT_MS,
          statementTimeoutMs: config.env.DB_STATEMENT_TIMEOUT_MS,
          behindTransactionPooler: config.behindTransactionPooler,
        }),
        autoLoadEntities: true,
        retryAttempts: 3,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [Database, MigrationRunner, Notifications, ReadReplicas, UnitOfWork],
  exports: [Database, MigrationRunner, Notifications, ReadReplicas, UnitOfWork],
})
export class DatabaseModule {}
