import { PassThrough } from 'node:stream';
import pino from 'pino';
import { chooseLogFormat, logDestination, prettyDestination } from './log-format';

describe('the log format', () => {
  it.each([
    // NODE_ENV, LOG_FORMAT, stdout a TTY, format
    ['development', 'auto', true, 'pretty'],
    ['test', 'auto', true, 'json'],
    ['development', 'auto', false, 'json'],
    ['test', 'auto', false, 'json'],
    ['production', 'auto', true, 'json'],
    ['production', 'auto', false, 'json'],
    ['development', 'json', true, 'json'],
    ['development', 'pretty', false, 'pretty'],
    ['production', 'json', true, 'json'],
  ] as const)('%s, LOG_FORMAT=%s, TTY %s: %s', (NODE_ENV, LOG_FORMAT, tty, format) => {
    expect(chooseLogFormat({ NODE_ENV, LOG_FORMAT }, tty)).toBe(format);
  });

  it('JSON lines: no destination, so pino writes them to stdout itself', async () => {
    expect(await logDestination({ NODE_ENV: 'production', LOG_FORMAT: 'auto' }, true)).toBeUndefined();
    expect(await logDestination({ NODE_ENV: 'development', LOG_FORMAT: 'auto' }, false)).toBeUndefined();
    expect(await logDestination({ NODE_ENV: 'development', LOG_FORMAT: 'auto' }, true)).toBeDefined();
  });

  it('pretty: one readable line per entry, the context before the message, no JSON', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    const destination = await prettyDestination({ destination: out });
    expect(destination).toBeDefined();
    const logger = pino({ level: 'info' }, destination);
    logger.info({ context: 'NestApplication' }, 'Nest application successfully started');
    logger.warn({ context: 'Mail', attempt: 2 }, 'retrying');
    await new Promise((resolve) => setImmediate(resolve));
    const lines = text.trim().split('\n');
    expect(lines[0]).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[NestApplication\] Nest application successfully started$/,
    );
    expect(text).toMatch(/WARN: \[Mail\] retrying\n\s+attempt: 2/);
    expect(text).not.toContain('{"level"');
  });

  it('pino-pretty not installed (the production image): JSON lines, a warning, no crash', async () => {
    const warnings: string[] = [];
    const missing = Object.assign(
      new Error("Cannot find package 'pino-pretty' imported from /app/dist/src/logging/log-format.js"),
      {
        code: 'ERR_MODULE_NOT_FOUND',
      },
    );
    const destination = await prettyDestination({
      warn: (line) => warnings.push(line),
      load: () => Promise.reject(missing),
    });
    expect(destination).toBeUndefined();
    expect(warnings).toEqual([
      "Logs are JSON lines: pino-pretty could not be loaded (Cannot find package 'pino-pretty' imported from /app/dist/src/logging/log-format.js)",
    ]);
  });
});
