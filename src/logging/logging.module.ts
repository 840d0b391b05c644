import { Global, Module } from '@nestjs/common';
import type { DestinationStream } from 'pino';
import { AppConfig } from '../config/app-config';
import { AppLogger } from './app-logger';
import { createLogger } from './logger';

/** Where log lines go instead of stdout, when a (global) module provides it: tests read them. */
export const LOG_DESTINATION = Symbol('LOG_DESTINATION');

/** The process's logger, for Nest itself (app.useLogger) and for structured logs anywhere. */
@Global()
@Module({
  providers: [
    {
      provide: AppLogger,
      inject: [AppConfig, { token: LOG_DESTINATION, optional: true }],
      useFactory: (config: AppConfig, destination?: DestinationStream) =>
        new AppLogger(createLogger(config, destination)),
    },
  ],
  exports: [AppLogger],
})
export class LoggingModule {}
