import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { AccessModule } from './access/access.module';
import { AuthGuard } from './auth/auth.guard';
import { AuthModule } from './auth/auth.module';
import { SessionsModule } from './sessions/sessions.module';
import { AllExceptionsFilter } from './common/http/all-exceptions.filter';
import { ContentTypeGuard } from './common/http/content-type.guard';
import { EnvelopeInterceptor } from './common/http/envelope.interceptor';
import { ReadYourWritesInterceptor } from './common/http/read-your-writes.interceptor';
import { ApiThrottlerGuard } from './common/rate-limit/api-throttler.guard';
import { RateLimitModule } from './common/rate-limit/rate-limit.module';
import { AppConfig } from './config/app-config';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { UsersModule } from './users/users.module';
import { AuditModule } from './audit/audit.module';
import { IdempotencyModule } from './common/idempotency/idempotency.module';
import { OrgsModule } from './orgs/orgs.module';
import { InvitationsModule } from './invitations/invitations.module';
import { ProjectsModule } from './projects/projects.module';
import { TasksModule } from './tasks/tasks.module';
import { DemoModule } from './demo/demo.module';
import { CommentsModule } from './comments/comments.module';
import { AttachmentsModule } from './attachments/attachments.module';
import { StorageModule } from './storage/storage.module';
import { JobsModule } from './jobs/jobs.module';
import { MailModule } from './mail/mail.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { ApiKeysModule } from './api-keys/api-keys.module';

@Module({})
export class AppModule {
  /** The whole application, for a configuration resolved at boot (main.ts, the CLI, tests). */
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigHolderModule.register(config),
        LoggingModule,
        DatabaseModule,
        AccessModule,
        StorageModule,
        JobsModule,
        MailModule,
        RateLimitModule,
        HealthModule,
        SessionsModule,
        IdempotencyModule,
        UsersModule,
        AuthModule,
        OrgsModule,
        InvitationsModule,
        ApiKeysModule,
        ProjectsModule,
        TasksModule,
        CommentsModule,
        AttachmentsModule,
        AuditModule,
        WebhooksModule,
        DemoModule,
      ],
      providers: [
        // Global guards run in this order: rate limit, authentication, body type.
        { provide: APP_GUARD, useClass: ApiThrottlerGuard },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_GUARD, useClass: ContentTypeGuard },
        { provide: APP_INTERCEPTOR, useClass: EnvelopeInterceptor },
        // Only with read replicas: without them there is no fence to publish, and no cost per request.
        ...(config.env.DATABASE_REPLICA_URLS.length > 0
          ? [{ provide: APP_INTERCEPTOR, useClass: ReadYourWritesInterceptor }]
          : []),
        { provide: APP_FILTER, useClass: AllExceptionsFilter },
      ],
    };
  }
}

/** Makes the resolved AppConfig injectable everywhere. */
@Module({})
class ConfigHolderModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: ConfigHolderModule,
      global: true,
      providers: [{ provide: AppConfig, useValue: config }],
      exports: [AppConfig],
    };
  }
}
