import pino, { type DestinationStream, type Logger, type redactOptions } from 'pino';
import type { AppConfig } from '../config/app-config';

/** Credentials and passwords, wherever they appear in a logged object. */
export const REDACT: redactOptions = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    '*.password',
    '*.currentPassword',
    '*.newPassword',
    '*.refreshToken',
    '*.accessToken',
  ],
  censor: '[redacted]',
};

/**
 * The process's root pino logger: JSON lines on stdout (pipe them through pino-pretty to read
 * them). It does not redact: only the request line, built from known fields, is written with
 * it. Everything else logs through AppLogger's redacting child.
 */
export function createLogger(config: AppConfig, stream?: DestinationStream): Logger {
  return pino({ level: config.env.LOG_LEVEL, serializers: { err: pino.stdSerializers.err } }, stream);
}
