import { randomBytes } from 'node:crypto';
import { expectError } from './support/envelope';
import { createTestApp, TestApp } from './support/test-app';

// TRUST_PROXY decides which address the rate limits count (§14): a hop count or the proxies'
// addresses, never "whatever the client sends". Here the test client plays both the client and
// the proxies: the server sees the requests come from 127.0.0.1, with the X-Forwarded-For that a
// client forged (left) and that the trusted proxies appended (right).

const randomIp = () => `198.18.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;

describe('TRUST_PROXY and the client address of rate limits', () => {
  const apps: TestApp[] = [];
  afterAll(() => Promise.all(apps.map((t) => t.close())));

  async function app(trustProxy: string | undefined): Promise<TestApp> {
    const t = await createTestApp({
      env: {
        ...(trustProxy === undefined ? {} : { TRUST_PROXY: trustProxy }),
        LOGIN_RATE_LIMIT_PER_IP: '3',
        RATE_LIMIT_PER_MINUTE: '5',
      },
    });
    apps.push(t);
    return t;
  }

  /** Login attempts (wrong password), each with this X-Forwarded-For: their statuses. */
  async function logins(t: TestApp, forwardedFor: () => string | undefined, count: number): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      let req = t.http().post('/api/v1/auth/login');
      const header = forwardedFor();
      if (header !== undefined) req = req.set('X-Forwarded-For', header);
      statuses.push((await req.send({ email: `nobody-${i}@example.com`, password: 'wrong password' })).status);
    }
    return statuses;
  }

  it('unset (0): X-Forwarded-For is ignored; forging it changes nothing', async () => {
    const t = await app(undefined);
    expect(await logins(t, randomIp, 4)).toEqual([401, 401, 401, 429]);
  });

  it('1 hop: the address the proxy appended counts; a forged left-most entry does not', async () => {
    const t = await app('1');
    const proxyAppended = '203.0.113.7';
    expect(await logins(t, () => `${randomIp()}, ${proxyAppended}`, 4)).toEqual([401, 401, 401, 429]);
    // Another client behind the same proxy is another address.
    expect(await logins(t, () => `${randomIp()}, 203.0.113.8`, 1)).toEqual([401]);
    // The global limit too (5 a minute here), whatever the forged part says.
    const global: number[] = [];
    for (let i = 0; i < 6; i++) {
      global.push((await t.http().get('/api/v1/auth/me').set('X-Forwarded-For', `${randomIp()}, 203.0.113.9`)).status);
    }
    expect(global).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('a list of proxies: every trusted hop is skipped, the first untrusted address counts', async () => {
    const t = await app('loopback, 10.0.0.0/8');
    // client (forged) → 192.0.2.44 (the real client, seen by the edge proxy 10.1.2.3) → 127.0.0.1
    const chain = () => `${randomIp()}, 192.0.2.44, 10.1.2.3`;
    expect(await logins(t, chain, 4)).toEqual([401, 401, 401, 429]);
    // An untrusted hop in the middle stops the walk there: that address counts.
    expect(await logins(t, () => `192.0.2.44, ${randomIp()}, 10.1.2.3`, 3)).toEqual([401, 401, 401]);
  });

  it('a 429 says when to retry, in the envelope', async () => {
    const t = await app('1');
    await logins(t, () => '203.0.113.50', 3);
    const res = await t
      .http()
      .post('/api/v1/auth/login')
      .set('X-Forwarded-For', '203.0.113.50')
      .send({ email: 'a@example.com', password: 'x' });
    expectError(res, 429, 'RATE_LIMITED');
    expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
  });
});
