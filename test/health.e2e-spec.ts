import { Client } from 'pg';
import { setTimeout as sleep } from 'node:timers/promises';
import { READINESS_CACHE_MS } from '../src/health/health.controller';
import { createTestApp, TestApp } from './support/test-app';
import { bearer } from './support/users';

describe('health and metrics', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('GET /health/live answers 200 in the terminus format, outside the envelope', async () => {
    const res = await t.http().get('/health/live').expect(200);
    expect(res.body).toEqual({ status: 'ok', info: {}, error: {}, details: {} });
    expect(res.headers['x-request-id']).toBeDefined();
  });

  it('GET /health/ready reports the database and migrations up', async () => {
    const res = await t.http().get('/health/ready').expect(200);
    expect(res.body.status).toBe('ok');
    expect(res.body.info.database.status).toBe('up');
    expect(res.body.info.migrations.status).toBe('up');
    expect(res.body.info.shutdown.status).toBe('up');
    expect(res.body.info.jobs.status).toBe('up');
  });

  it('GET /health/ready is 503 when a migration is pending', async () => {
    const applied: { timestamp: string; name: string }[] = await t.dataSource.query(
      'SELECT timestamp, name FROM migrations ORDER BY id DESC LIMIT 1',
    );
    await t.dataSource.query('DELETE FROM migrations WHERE name = $1', [applied[0].name]);
    try {
      // Seen once the cached result (READINESS_CACHE_MS) has expired.
      await sleep(READINESS_CACHE_MS + 50);
      const res = await t.http().get('/health/ready').expect(503);
      expect(res.body.status).toBe('error');
      expect(res.body.error.migrations).toMatchObject({ status: 'down', message: 'pending migrations' });
      expect(res.headers['retry-after']).toBe('5');
    } finally {
      await t.dataSource.query('INSERT INTO migrations (timestamp, name) VALUES ($1, $2)', [
        applied[0].timestamp,
        applied[0].name,
      ]);
    }
    await sleep(READINESS_CACHE_MS + 50);
    await t.http().get('/health/ready').expect(200);
  });

  it('a storm of readiness probes costs the database one check a second, not one per probe', async () => {
    await sleep(READINESS_CACHE_MS + 50);
    const spy = jest.spyOn(Client.prototype, 'query');
    try {
      const started = Date.now();
      const statuses: number[] = [];
      while (Date.now() - started < 1500) {
        const batch = await Promise.all(Array.from({ length: 50 }, () => t.http().get('/health/ready')));
        statuses.push(...batch.map((res) => res.status));
      }
      expect(statuses.length).toBeGreaterThanOrEqual(100);
      expect(new Set(statuses)).toEqual(new Set([200]));
      // One round (a ping, and two statements to read the migrations table) per READINESS_CACHE_MS;
      // the job queue's workers poll meanwhile, on their own schedule, and are not counted.
      const rounds = Math.floor((Date.now() - started) / READINESS_CACHE_MS) + 1;
      const probes = spy.mock.calls.filter(([query]) => !JSON.stringify(query).includes('pgboss.'));
      expect(probes.length).toBeGreaterThan(0);
      expect(probes.length).toBeLessThanOrEqual(3 * rounds);
    } finally {
      spy.mockRestore();
    }
  });

  it('GET /metrics exposes request counts by route template, pool gauges and process metrics', async () => {
    await t
      .http()
      .get(`/api/v1/users/${'0'.repeat(8)}-0000-4000-8000-000000000000`)
      .set(bearer('x.y.z'));
    const res = await t.http().get('/metrics').expect(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.text).toContain('http_request_duration_seconds_bucket');
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/api\/v1\/users\/:id",status="401"\} 1/);
    expect(res.text).not.toContain('00000000-0000-4000-8000-000000000000');
    expect(res.text).toContain('db_pool_connections');
    expect(res.text).toContain('db_pool_waiting_clients');
    expect(res.text).toContain('process_cpu_user_seconds_total');
  });

  it('unknown paths outside /api are 404 in the error envelope', async () => {
    const res = await t.http().get('/nope').expect(404);
    expect(res.body.error).toMatchObject({ status: 404, code: 'NOT_FOUND' });
  });
});

describe('metrics behind METRICS_TOKEN', () => {
  let t: TestApp;
  const token = 'metrics-token-9f8e7d6c5b4a';

  beforeAll(async () => {
    t = await createTestApp({ env: { METRICS_TOKEN: token } });
  });
  afterAll(() => t.close());

  it('is 401 without the token, 401 with a wrong one, 200 with it', async () => {
    await t.http().get('/metrics').expect(401);
    await t.http().get('/metrics').set(bearer('wrong')).expect(401);
    const res = await t.http().get('/metrics').set(bearer(token)).expect(200);
    expect(res.text).toContain('http_requests_total');
  });
});
