import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { isPrivateAddress, PRIVATE_ADDRESS, Resolver, WebhookTargets } from './webhook-target';
import { WebhookSender } from './webhook-sender';
import { MAX_ATTEMPTS, retryDelaySeconds, RETRY_STEPS } from './webhook-retry';

describe('isPrivateAddress', () => {
  it.each([
    '127.0.0.1',
    '127.255.255.254',
    '10.0.0.1',
    '10.255.255.255',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '100.64.0.1',
    '100.127.255.255',
    '169.254.169.254',
    '0.0.0.0',
    '0.1.2.3',
    '224.0.0.1',
    '239.255.255.255',
    '240.0.0.1',
    '255.255.255.255',
    '198.18.0.1',
    '198.19.255.255',
    '192.0.2.1',
    '198.51.100.7',
    '203.0.113.9',
    '192.0.0.8',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456:789a::1',
    'fe80::1',
    'fe80::1%eth0',
    'febf::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '::ffff:169.254.169.254',
    '0:0:0:0:0:ffff:c0a8:0101',
    '::127.0.0.1',
    '64:ff9b::10.0.0.1',
    '64:ff9b::7f00:1',
    '2002:7f00:1::1',
    '2002:c0a8:0101::',
    '2001:db8::1',
    '2001:0:4136:e378:8000:63bf:3fff:fdd2',
    '100::1',
    'not an address',
    '',
  ])('refuses %s', (address) => {
    expect(isPrivateAddress(address)).toBe(true);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '172.15.255.255',
    '172.32.0.1',
    '100.63.255.255',
    '100.128.0.1',
    '198.17.255.255',
    '198.20.0.1',
    '11.0.0.1',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8',
    '2002:0808:0808::1',
  ])('allows %s', (address) => {
    expect(isPrivateAddress(address)).toBe(false);
  });
});

/** A resolver that answers from a table, and records what it was asked. */
function fakeResolver(answers: Record<string, string[]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (hostname: string) => {
    asked.push(hostname);
    const addresses = answers[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { asked });
}

describe('WebhookTargets.check (private targets not allowed)', () => {
  const targets = new WebhookTargets(
    false,
    fakeResolver({
      'hooks.example.com': ['93.184.216.34'],
      'dual.example.com': ['93.184.216.34', '10.0.0.7'],
      'v6.example.com': ['2606:4700:4700::1111'],
      'mapped.example.com': ['::ffff:127.0.0.1'],
      localhost: ['127.0.0.1', '::1'],
    }),
  );

  it.each([
    'https://hooks.example.com/in',
    'https://v6.example.com/',
    'https://93.184.216.34/hook',
    'https://[2606:4700:4700::1111]/hook',
  ])('accepts %s', async (url) => {
    expect((await targets.check(url)).problem).toBeUndefined();
  });

  it.each([
    ['http://hooks.example.com/in', 'url must be an https URL'],
    ['ftp://hooks.example.com/', 'url must be an http or https URL'],
    ['javascript:alert(1)', 'url must be an http or https URL'],
    ['not a url', 'url must be an absolute http or https URL'],
    ['https://user:pass@hooks.example.com/', 'url must not contain credentials'],
    ['https://token@hooks.example.com/', 'url must not contain credentials'],
    ['https://127.0.0.1/', PRIVATE_ADDRESS],
    ['https://2130706433/', PRIVATE_ADDRESS],
    ['https://0x7f.1/', PRIVATE_ADDRESS],
    ['https://0177.0.0.1/', PRIVATE_ADDRESS],
    ['https://127.1/', PRIVATE_ADDRESS],
    ['https://[::1]/', PRIVATE_ADDRESS],
    ['https://[::ffff:127.0.0.1]/', PRIVATE_ADDRESS],
    ['https://[::ffff:a00:1]/', PRIVATE_ADDRESS],
    ['https://[fe80::1]/', PRIVATE_ADDRESS],
    ['https://[fd00::1]/', PRIVATE_ADDRESS],
    ['https://[64:ff9b::a9fe:a9fe]/', PRIVATE_ADDRESS],
    ['https://[2002:a9fe:a9fe::1]/', PRIVATE_ADDRESS],
    ['https://169.254.169.254/latest/meta-data', PRIVATE_ADDRESS],
    ['https://100.64.1.1/', PRIVATE_ADDRESS],
    ['https://localhost/', PRIVATE_ADDRESS],
    ['https://dual.example.com/', PRIVATE_ADDRESS],
    ['https://mapped.example.com/', PRIVATE_ADDRESS],
    ['https://nowhere.example.com/', 'url host does not resolve'],
  ])('refuses %s', async (url, problem) => {
    expect((await targets.check(url)).problem).toBe(problem);
  });
});

describe('WebhookTargets.check (private targets allowed)', () => {
  const resolver = fakeResolver({});
  const targets = new WebhookTargets(true, resolver);

  it('accepts http, loopback and private addresses without resolving', async () => {
    for (const url of ['http://127.0.0.1:8080/in', 'http://localhost/', 'https://10.1.2.3/', 'http://[::1]:9/']) {
      expect((await targets.check(url)).problem).toBeUndefined();
    }
    expect(resolver.asked).toEqual([]);
  });

  it('still refuses other schemes and credentials', async () => {
    expect((await targets.check('file:///etc/passwd')).problem).toBe('url must be an http or https URL');
    expect((await targets.check('http://a:b@127.0.0.1/')).problem).toBe('url must not contain credentials');
  });
});

describe('retry schedule', () => {
  it('grows, and spans at least 24 hours with the default 30 s base', () => {
    const delays = RETRY_STEPS.map((_, attempt) => retryDelaySeconds(attempt, 30)!);
    expect(delays).toEqual([30, 120, 600, 1800, 3600, 7200, 14400, 28800, 28800, 28800]);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1]);
    expect(delays.reduce((sum, d) => sum + d, 0)).toBeGreaterThanOrEqual(24 * 3600);
    expect(retryDelaySeconds(RETRY_STEPS.length, 30)).toBeNull();
    expect(MAX_ATTEMPTS).toBe(11);
  });

  it('spans 24 hours with the smallest base allowed outside tests (23 s), and not with 22', () => {
    const span = (base: number) => RETRY_STEPS.reduce((sum, _, attempt) => sum + retryDelaySeconds(attempt, base)!, 0);
    expect(span(23)).toBeGreaterThanOrEqual(24 * 3600);
    expect(span(22)).toBeLessThan(24 * 3600);
  });
});

describe('WebhookSender: the target checked again at delivery time', () => {
  let server: Server;
  let port: number;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body: Buffer.concat(chunks).toString() });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => (received.length = 0));

  it('connects to the address its lookup returned, and signs as Standard Webhooks verifies', async () => {
    // The name exists only in this resolver: reaching the receiver proves the socket went to its answer.
    const sender = new WebhookSender(new WebhookTargets(true, fakeResolver({ 'hook.tasklane.test': ['127.0.0.1'] })));
    const body = JSON.stringify({ id: 'evt', type: 'ping' });
    const outcome = await sender.send({ url: `http://hook.tasklane.test:${port}/in?x=1`, secret, id: 'evt-1', body });
    expect(outcome).toEqual({ ok: true, statusCode: 204, error: null });
    expect(received).toHaveLength(1);
    expect(received[0].body).toBe(body);
    expect(received[0].headers['content-type']).toBe('application/json');
    expect(received[0].headers['webhook-id']).toBe('evt-1');
    const headers = {
      'webhook-id': received[0].headers['webhook-id'] as string,
      'webhook-timestamp': received[0].headers['webhook-timestamp'] as string,
      'webhook-signature': received[0].headers['webhook-signature'] as string,
    };
    expect(new Webhook(secret).verify(received[0].body, headers)).toEqual(JSON.parse(body));
    expect(() => new Webhook(`whsec_${Buffer.alloc(32, 8).toString('base64')}`).verify(body, headers)).toThrow();
  });

  it('refuses a name that now resolves to a private address, without connecting', async () => {
    let calls = 0;
    // Public when the webhook was saved, loopback (where the receiver is) at delivery: DNS rebinding.
    const rebinding: Resolver = async () => [{ address: calls++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 }];
    const targets = new WebhookTargets(false, rebinding);
    expect((await targets.check(`https://rebind.tasklane.test:${port}/`)).problem).toBeUndefined();
    const outcome = await new WebhookSender(targets).send({
      url: `https://rebind.tasklane.test:${port}/`,
      secret,
      id: 'evt-2',
      body: '{}',
    });
    expect(outcome).toEqual({ ok: false, statusCode: null, error: PRIVATE_ADDRESS });
    expect(calls).toBe(2);
    expect(received).toEqual([]);
  });

  it('refuses a literal private address at delivery time, without connecting', async () => {
    const sender = new WebhookSender(new WebhookTargets(false, fakeResolver({})));
    const outcome = await sender.send({ url: `https://127.0.0.1:${port}/`, secret, id: 'evt-3', body: '{}' });
    expect(outcome).toEqual({ ok: false, statusCode: null, error: PRIVATE_ADDRESS });
    expect(received).toEqual([]);
  });

  it('names a refused connection and a name that does not resolve', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const sender = new WebhookSender(new WebhookTargets(true, fakeResolver({ 'up.tasklane.test': ['127.0.0.1'] })));
    expect(await sender.send({ url: `http://up.tasklane.test:${closedPort}/`, secret, id: 'e', body: '{}' })).toEqual({
      ok: false,
      statusCode: null,
      error: 'connection refused',
    });
    expect(await sender.send({ url: `http://down.tasklane.test:${port}/`, secret, id: 'e', body: '{}' })).toEqual({
      ok: false,
      statusCode: null,
      error: 'host does not resolve',
    });
  });
});
