import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import helmet, { HelmetOptions } from 'helmet';
import { securityHeaders } from './security-headers';

function headersAfter(middleware: (req: IncomingMessage, res: ServerResponse, next: () => void) => void) {
  const req = new IncomingMessage(new Socket());
  const res = new ServerResponse(req);
  res.setHeader('X-Powered-By', 'Express');
  let called = 0;
  middleware(req, res, () => called++);
  expect(called).toBe(1);
  return res.getHeaders();
}

describe('securityHeaders', () => {
  it.each<[string, HelmetOptions]>([
    ['the defaults', {}],
    [
      "Tasklane's options",
      {
        contentSecurityPolicy: {
          directives: { 'img-src': ["'self'", 'data:', 'validator.swagger.io'], 'upgrade-insecure-requests': null },
        },
      },
    ],
  ])('sets exactly what helmet sets, for %s', (_label, options) => {
    const expected = headersAfter(helmet(options) as never);
    expect(headersAfter(securityHeaders(options))).toEqual(expected);
    expect(expected['x-powered-by']).toBeUndefined();
    expect(Object.keys(expected).length).toBeGreaterThan(10);
  });

  it('refuses options whose headers depend on the request', () => {
    expect(() =>
      securityHeaders({ contentSecurityPolicy: { directives: { 'script-src': [() => "'nonce-x'"] } } }),
    ).toThrow();
  });
});
