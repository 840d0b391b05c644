import type { LoggerService } from '@nestjs/common';
import type { Level, Logger } from 'pino';
import { REDACT } from './logger';

/**
 * Nest's logger (boot messages, `new Logger(Context)` in services) written through the
 * process's pino logger as JSON lines with a `context`. Nest passes the context as the last
 * string argument, and for errors a stack before it.
 */
export class AppLogger implements LoggerService {
  /** For structured logs anywhere: redacts credentials and passwords (REDACT). */
  readonly pino: Logger;

  /**
   * @param requests the root logger, which the request line uses as it is: that line holds no
   * header or body, and skipping redaction there took 8 % of the CPU of a GET (BENCHMARKS.md).
   */
  constructor(readonly requests: Logger) {
    this.pino = requests.child({}, { redact: REDACT });
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const last = params[params.length - 1];
    const context = typeof last === 'string' && !isStack(last) ? last : undefined;
    const stack = params.find((p): p is string => typeof p === 'string' && isStack(p));
    if (message instanceof Error) {
      this.pino[level]({ context, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ context, ...message });
    } else if (stack !== undefined) {
      this.pino[level]({ context, err: { message: String(message), stack } }, String(message));
    } else {
      this.pino[level]({ context }, String(message));
    }
  }
}

const isStack = (text: string): boolean => /\n\s+at /.test(text);
