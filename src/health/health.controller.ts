import { Controller, Get, Res, ServiceUnavailableException, VERSION_NEUTRAL } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import type { Response } from 'express';
import { SkipThrottle } from '@nestjs/throttler';
import { Public } from '../common/decorators/public.decorator';
import { RawResponse } from '../common/decorators/raw-response.decorator';
import { MigrationRunner } from '../database/migration-runner';
import { JobQueue } from '../jobs/job-queue';
import { ShutdownState } from './shutdown-state';

/** How long a readiness result stands before the database is asked again. */
export const READINESS_CACHE_MS = 1000;

/** Liveness and readiness in the @nestjs/terminus format, outside the API envelope. */
@ApiExcludeController()
@Public()
@RawResponse()
@SkipThrottle()
@Controller({ path: 'health', version: VERSION_NEUTRAL })
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly migrations: MigrationRunner,
    private readonly jobs: JobQueue,
    private readonly shutdown: ShutdownState,
  ) {}

  @Get('live')
  live(@Res({ passthrough: true }) res: Response): Promise<unknown> {
    return this.respond(res, []);
  }

  @Get('ready')
  ready(@Res({ passthrough: true }) res: Response): Promise<unknown> {
    return this.respond(res, [
      () => {
        const indicator = this.indicators.check('shutdown');
        return this.shutdown.isShuttingDown ? indicator.down({ message: 'shutting down' }) : indicator.up();
      },
      // The two that cost database queries are answered from a cache of READINESS_CACHE_MS, one
      // check at a time: a storm of probes cannot load the database. Shutdown is seen at once.
      () => this.database.pingCheck('database').withTimeout(1500).cacheFor(READINESS_CACHE_MS),
      () =>
        this.indicators
          .check('migrations')
          .attempt(async () => {
            if (!(await this.migrations.migrationsApplied())) throw new Error('pending migrations');
          })
          .cacheFor(READINESS_CACHE_MS),
      () => {
        const indicator = this.indicators.check('jobs');
        return this.jobs.isRunning ? indicator.up() : indicator.down({ message: 'job queue not running' });
      },
    ]);
  }

  private async respond(res: Response, checks: Parameters<HealthCheckService['check']>[0]): Promise<unknown> {
    res.setHeader('Cache-Control', 'no-store');
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      res.status(503).setHeader('Retry-After', '5');
      return error.getResponse();
    }
  }
}
