import { Global, Module } from '@nestjs/common';
import { JobQueue } from './job-queue';

/** The background job queue (pg-boss on the application's PostgreSQL). */
@Global()
@Module({ providers: [JobQueue], exports: [JobQueue] })
export class JobsModule {}
