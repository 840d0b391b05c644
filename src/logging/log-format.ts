import type { DestinationStream } from 'pino';
import type { Environment } from '../config/env.schema';

export type LogFormat = 'json' | 'pretty';

/**
 * How the process writes its logs. JSON lines (one object a line, what log collectors read)
 * everywhere but a developer's terminal: with LOG_FORMAT=auto (the default), pretty-printed
 * when stdout is a TTY in development (NODE_ENV unset or `development`); a test run or
 * production writes JSON. LOG_FORMAT=json or pretty decides instead
 * (pretty is refused in production by the environment schema).
 */
export function chooseLogFormat(env: Pick<Environment, 'NODE_ENV' | 'LOG_FORMAT'>, stdoutIsTty: boolean): LogFormat {
  if (env.LOG_FORMAT !== 'auto') return env.LOG_FORMAT;
  return stdoutIsTty && env.NODE_ENV === 'development' ? 'pretty' : 'json';
}

type PrettyFactory = (options: Record<string, unknown>) => DestinationStream;

/** pino-pretty, a development dependency: loaded only when a pretty log is chosen. */
async function importPinoPretty(): Promise<PrettyFactory> {
  return (await import('pino-pretty')).default;
}

/**
 * The stream that pretty-prints log lines (on stdout unless `destination` says otherwise), or
 * undefined (pino's default: JSON lines on stdout) when pino-pretty cannot be loaded, as in the
 * production image, which has no development dependencies; `warn` is told so. Synchronous
 * writes: a line logged just before process.exit is not lost.
 */
export async function prettyDestination(
  options: {
    warn?: (line: string) => void;
    load?: () => Promise<PrettyFactory>;
    destination?: number | NodeJS.WritableStream;
  } = {},
): Promise<DestinationStream | undefined> {
  const { warn = (line: string) => process.stderr.write(line + '\n'), load = importPinoPretty } = options;
  let pretty: PrettyFactory;
  try {
    pretty = await load();
  } catch (error) {
    warn(`Logs are JSON lines: pino-pretty could not be loaded (${String((error as Error).message).split('\n')[0]})`);
    return undefined;
  }
  return pretty({
    // Colours on stdout when it supports them (pino-pretty's default); none in another stream
    ...(options.destination === undefined ? { destination: 1 } : { destination: options.destination, colorize: false }),
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,context',
    messageFormat: '{if context}[{context}] {end}{msg}',
  });
}

/** Where the process's logs go for `env`: the pretty stream, or undefined for JSON lines on stdout. */
export async function logDestination(
  env: Pick<Environment, 'NODE_ENV' | 'LOG_FORMAT'>,
  stdoutIsTty = process.stdout.isTTY === true,
): Promise<DestinationStream | undefined> {
  return chooseLogFormat(env, stdoutIsTty) === 'pretty' ? prettyDestination() : undefined;
}
