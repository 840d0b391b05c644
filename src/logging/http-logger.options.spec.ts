import { once } from 'node:events';
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pinoHttp } from 'pino-http';
import { AppConfig } from '../config/app-config';
import { parseEnvironment } from '../config/env.schema';
import { httpLoggerOptions } from './http-logger.options';

describe('httpLoggerOptions: one line per request', () => {
  let server: Server;
  let lines: Record<string, unknown>[];
  let url: string;

  beforeAll(async () => {
    lines = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString()));
        done();
      },
    });
    const config = new AppConfig({
      env: parseEnvironment({ NODE_ENV: 'test', LOG_LEVEL: 'info' }),
      databaseUrl: 'postgres://unused',
      jwtSecret: 'x'.repeat(40),
    });
    const options = httpLoggerOptions(config).pinoHttp as object;
    const logger = pinoHttp({ ...options, stream } as never);
    server = createServer((req, res) => {
      logger(req, res);
      const r = req as IncomingMessage & { user?: { id: string }; route?: { path: string }; baseUrl?: string };
      if (req.url === '/tasks/1') {
        r.user = { id: 'user-1' };
        r.route = { path: '/tasks/:taskId' };
        r.baseUrl = '/api/v1';
      }
      res.statusCode = req.url === '/boom' ? 500 : 200;
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((done) => server.close(done)));

  it('carries the id, the request, the user, the route template, the status and the time, in that order', async () => {
    await fetch(`${url}/tasks/1`, { headers: { 'x-request-id': 'req-1', authorization: 'Bearer secret' } });
    await new Promise((r) => setImmediate(r));
    const line = lines.pop()!;
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
      req: { id: 'req-1', method: 'GET', url: '/tasks/1' },
      userId: 'user-1',
      route: '/api/v1/tasks/:taskId',
      res: { statusCode: 200 },
      msg: 'request completed',
    });
    expect(JSON.stringify(line)).not.toContain('secret');
  });

  it('leaves out what is not known, and logs a 5xx as an error', async () => {
    await fetch(`${url}/boom`);
    await new Promise((r) => setImmediate(r));
    const line = lines.pop()!;
    expect(line).not.toHaveProperty('userId');
    expect(line).not.toHaveProperty('route');
    expect(line).toMatchObject({ level: 50, res: { statusCode: 500 }, msg: 'request errored' });
    expect(line.err).toMatchObject({ message: 'failed with status code 500' });
  });
});
