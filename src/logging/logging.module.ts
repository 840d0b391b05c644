import { Global, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { AppLogger } from './app-logger';
import { logDestination } from './log-format';
import { createLogger } from './logger';

/** Where log lines go instead of stdout, when a (global) module provides it: tests read them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/**
 * The process's logger, for Nest itself (app.useLogger) and for structured logs anywhere: JSON
 * lines on stdout, pretty-printed on a developer's terminal (log-format.ts).
 */
@Global()
@Module({
  providers: [
    {
      provide: AppLogger,
      inject: [AppConfig, { token: LOG_DESTINATION, optional: true }],
      useFactory: async (config: AppConfig, destination?: DestinationStream) =>
        new AppLogger(createLogger(config, destination ?? (await logDestination(config.env)))),
    },
  ],
  exports: [AppLogger],
})
export class LoggingModule {}
