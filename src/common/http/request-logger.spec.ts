import { once } from 'node:events';
import { createServer, IncomingMessage, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { AppConfig } from '../../config/app-config';
import { parseEnvironment } from '../../config/env.schema';
import { AppLogger } from '../../logging/app-logger';
import { createLogger } from '../../logging/logger';
import { loggedUrl, requestLogger } from './request-logger';

type Line = Record<string, unknown>;

function capture(level = 'info'): { lines: Line[]; logger: ReturnType<typeof createLogger> } {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Line);
      done();
    },
  });
  const config = new AppConfig({
    env: parseEnvironment({ NODE_ENV: 'test', LOG_LEVEL: level }),
    databaseUrl: 'postgres://unused',
    jwtSecret: 'x'.repeat(40),
  });
  return { lines, logger: createLogger(config, stream) };
}

describe('requestLogger: one line per request', () => {
  let server: Server;
  let lines: Line[];
  let url: string;

  beforeAll(async () => {
    const captured = capture();
    lines = captured.lines;
    const log = requestLogger(captured.logger);
    server = createServer((req, res) => {
      log(req, res, () => {
        const r = req as IncomingMessage & { user?: { id: string }; route?: { path: string }; baseUrl?: string };
        if (req.url === '/tasks/1') {
          r.user = { id: 'user-1' };
          r.route = { path: '/tasks/:taskId' };
          r.baseUrl = '/api/v1';
        }
        if (req.url === '/hang') {
          res.write('partial');
          return; // never ended: the client goes away
        }
        res.statusCode = req.url === '/boom' ? 500 : req.url === '/missing' ? 404 : 200;
        res.end('ok');
      });
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((done) => server.close(done)));
  beforeEach(() => lines.splice(0));
  /** Until the line is written (when the response's `close` has been emitted), 2 s at most. */
  const settle = async () => {
    for (let waited = 0; lines.length === 0 && waited < 2000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 20)); // and no second line
  };

  it('carries the id, the request, the user, the route template, the status and the time, in that order', async () => {
    const res = await fetch(`${url}/tasks/1`, { headers: { 'x-request-id': 'req-1', authorization: 'Bearer secret' } });
    expect(res.headers.get('x-request-id')).toBe('req-1');
    await settle();
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(Object.keys(line)).toEqual([
      'level',
      'time',
      'pid',
      'hostname',
      'req',
      'userId',
      'route',
      'res',
      'responseTime',
      'msg',
    ]);
    expect(line).toMatchObject({
      level: 30,
      req: { id: 'req-1', method: 'GET', url: '/tasks/1', remoteAddress: '127.0.0.1' },
      userId: 'user-1',
      route: '/api/v1/tasks/:taskId',
      res: { statusCode: 200 },
      msg: 'request completed',
    });
    expect(typeof line.responseTime).toBe('number');
    expect(JSON.stringify(line)).not.toContain('secret');
  });

  it('gives each request without a well-formed X-Request-Id a fresh one, echoed in the response', async () => {
    const res = await fetch(`${url}/missing`, { headers: { 'x-request-id': 'bad id with spaces' } });
    await settle();
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lines[0]).toMatchObject({ level: 40, req: { id }, res: { statusCode: 404 }, msg: 'request completed' });
  });

  it('leaves out what is not known, and logs a 5xx as an error', async () => {
    await fetch(`${url}/boom`);
    await settle();
    const [line] = lines;
    expect(line).not.toHaveProperty('userId');
    expect(line).not.toHaveProperty('route');
    expect(line).toMatchObject({ level: 50, res: { statusCode: 500 }, msg: 'request errored' });
    expect(line.err).toMatchObject({ message: 'failed with status code 500' });
  });

  it('logs a request whose client went away before the response ended, once, as aborted', async () => {
    await new Promise<void>((done) => {
      const req = request(`${url}/hang`, (res) => {
        res.once('data', () => {
          req.destroy();
          done();
        });
      });
      req.end();
    });
    await settle();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, req: { url: '/hang' }, msg: 'request aborted' });
  });

  it('writes nothing below the configured level', async () => {
    const quiet = capture('warn');
    const observed: number[] = [];
    const log = requestLogger(quiet.logger, [(_req, res) => observed.push(res.statusCode)]);
    const res = { statusCode: 200, writableFinished: true, on: jest.fn(), setHeader: jest.fn() };
    log({ headers: {}, method: 'GET', url: '/', socket: {} } as never, res as never, () => undefined);
    const close = res.on.mock.calls.find(([event]) => event === 'close')![1] as () => void;
    close();
    expect(quiet.lines).toEqual([]);
    // Observers hear of every response, logged or not.
    expect(observed).toEqual([200]);
  });
});

describe('AppLogger: Nest logs as JSON lines', () => {
  it('takes the context from the last argument, and a stack as the error', () => {
    const { lines, logger } = capture('trace');
    const nest = new AppLogger(logger);
    nest.log('Mapped {/tasks, GET} route', 'RouterExplorer');
    nest.error('Boom', 'Error: Boom\n    at x (y.js:1:1)', 'ExceptionHandler');
    nest.warn({ retries: 3 }, 'Queue');
    nest.error(new Error('Broken'));
    nest.verbose('details');
    expect(lines).toMatchObject([
      { level: 30, context: 'RouterExplorer', msg: 'Mapped {/tasks, GET} route' },
      {
        level: 50,
        context: 'ExceptionHandler',
        msg: 'Boom',
        err: { message: 'Boom', stack: expect.stringContaining('at x') },
      },
      { level: 40, context: 'Queue', retries: 3 },
      { level: 50, msg: 'Broken', err: { message: 'Broken', type: 'Error' } },
      { level: 10, msg: 'details' },
    ]);
  });

  it('redacts credentials in logged objects', () => {
    const { lines, logger } = capture();
    new AppLogger(logger).log({ body: { password: 'hunter2', refreshToken: 'rt' } }, 'Auth');
    expect(JSON.stringify(lines)).not.toMatch(/hunter2|"rt"/);
    expect(lines[0]).toMatchObject({ body: { password: '[redacted]', refreshToken: '[redacted]' } });
  });
});

describe('loggedUrl', () => {
  it('masks secret query parameters and leaves the rest', () => {
    expect(loggedUrl('/api/v1/invitations/preview?token=abc_-123')).toBe(
      '/api/v1/invitations/preview?token=[redacted]',
    );
    expect(loggedUrl('/x?a=1&TOKEN=s3cret&b=2')).toBe('/x?a=1&TOKEN=[redacted]&b=2');
    expect(loggedUrl('/x?mytoken=1')).toBe('/x?mytoken=1');
    expect(loggedUrl('/api/v1/tasks')).toBe('/api/v1/tasks');
  });
});
