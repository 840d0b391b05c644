/**
 * `npm run bench`: Tasklane against a hand-written baseline (bench/baseline/server.ts), on the
 * same PostgreSQL database with the same pool size, alternating the two over several rounds
 * after a warm-up, once the baseline is seen to answer as Tasklane does and to send the same SQL
 * (checkParity). Each round reports req/s, latency and each server's CPU per request; a
 * scenario's figures are the medians of its rounds. Writes BENCHMARKS.md and bench/chart.svg.
 * `npm run bench -- --smoke` runs every scenario for a second and writes nothing (CI uses it so
 * that the harness, parity check included, keeps working). `-- --only byId,list` runs only those
 * scenarios (live, byId, apiKey, list, post, login, storm) and writes nothing either.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { format, resolveConfig } from 'prettier';
import { cpuMs, freePort, productionEnv, ROOT, rssMiB, sleep, start, UNLIMITED_RATES, waitFor } from './harness';
import { PgTap, startPgTap, TappedStatement } from './pg-tap';
import { benchDatabase, seedBenchData } from './seed';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    only: { type: 'string' },
  },
});
const ONLY = args.only?.split(',');
const want = (scenario: string) => !ONLY || ONLY.includes(scenario);
const SMOKE = args.smoke!;
const DURATION = SMOKE ? 1 : Number(args.duration);
const ROUNDS = SMOKE ? 1 : Number(args.rounds);
const CONNECTIONS = SMOKE ? 4 : Number(args.connections);
const POOL = 10;
const SECRET = randomBytes(36).toString('base64url');

interface Measure {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time of the measured server per answered request, ms (utime + stime) */
  cpu?: number;
}
interface Row {
  scenario: string;
  tasklane: Measure;
  baseline: Measure;
  ratio: number;
  target: string;
  met: boolean;
  /** Tasklane's p99 ÷ the baseline's, and its target when it has one */
  p99Ratio?: number;
  p99Target?: number;
  note?: string;
}

type Options = Omit<autocannon.Options, 'url'> & { url: string };
/** A load and the process whose CPU it costs. */
type Side = Options & { pid?: number };

async function load({ pid, ...options }: Side): Promise<Measure> {
  const before = pid ? cpuMs(pid) : 0;
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
    cpu: pid ? (cpuMs(pid) - before) / Math.max(1, result.requests.total) : undefined,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

/** The medians of the rounds (errors: the total). */
const medianOf = (measures: Measure[]): Measure => ({
  rps: median(measures.map((m) => m.rps)),
  p50: median(measures.map((m) => m.p50)),
  p99: median(measures.map((m) => m.p99)),
  errors: measures.reduce((s, m) => s + m.errors, 0),
  cpu: measures.every((m) => m.cpu !== undefined) ? median(measures.map((m) => m.cpu!)) : undefined,
});

/** Warm-up, then ROUNDS rounds of Tasklane and baseline alternately (who goes first alternates too). */
async function compare(a: Side, b: Side): Promise<{ tasklane: Measure; baseline: Measure }> {
  if (!SMOKE) {
    await load({ ...a, duration: 2 });
    await load({ ...b, duration: 2 });
  }
  const ours: Measure[] = [];
  const theirs: Measure[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      ours.push(await load(a));
      theirs.push(await load(b));
    } else {
      theirs.push(await load(b));
      ours.push(await load(a));
    }
  }
  return { tasklane: medianOf(ours), baseline: medianOf(theirs) };
}

function row(
  scenario: string,
  m: { tasklane: Measure; baseline: Measure },
  minimum?: number,
  p99Maximum?: number,
): Row {
  const ratio = m.tasklane.rps / m.baseline.rps;
  const p99Ratio = m.tasklane.p99 / Math.max(m.baseline.p99, 0.001);
  return {
    scenario,
    ...m,
    ratio,
    target: minimum === undefined ? '—' : `≥ ${minimum.toFixed(2)}`,
    met: (minimum === undefined || ratio >= minimum) && (p99Maximum === undefined || p99Ratio <= p99Maximum),
    p99Ratio,
    p99Target: p99Maximum,
  };
}

interface Exchange {
  name: string;
  path: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}
interface Answer {
  status: number;
  /** Every response header but Date, in the order sent: `name: value`. */
  headers: string[];
  body: string;
}

/** Headers that differ between any two responses (the clock). */
const UNCOMPARED_HEADERS = new Set(['date']);
/** What is new in every task a POST creates, and differs between the two servers' answers for that alone. */
const NEW_IN_EACH_TASK = ['id', 'number', 'key', 'createdAt', 'updatedAt'];

function ask(server: string, exchange: Exchange): Promise<Answer> {
  const url = new URL(exchange.path, server);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: exchange.method ?? 'GET',
        headers: { 'x-request-id': `parity-${exchange.name.replace(/\W+/g, '-')}`, ...exchange.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          let body = Buffer.concat(chunks).toString('utf8');
          let created: string | undefined;
          if (exchange.method === 'POST' && res.statusCode === 201) {
            const parsed = JSON.parse(body) as { data: Record<string, unknown> };
            created = String(parsed.data.id);
            for (const field of NEW_IN_EACH_TASK) parsed.data[field] = `{${field}}`;
            body = JSON.stringify(parsed);
          }
          const headers: string[] = [];
          for (let i = 0; i < res.rawHeaders.length; i += 2) {
            const name = res.rawHeaders[i].toLowerCase();
            if (UNCOMPARED_HEADERS.has(name)) continue;
            let value = res.rawHeaders[i + 1];
            if (created && name === 'location') value = value.replace(created, '{id}');
            // The window's end is counted in whole seconds from each server's first request.
            if (name === 'x-ratelimit-reset') value = Number(value) >= 59 ? '59-60' : value;
            headers.push(`${name}: ${value}`);
          }
          resolve({ status: res.statusCode ?? 0, headers, body });
        });
      },
    );
    req.on('error', reject);
    req.end(exchange.body);
  });
}

/**
 * A statement as compared: its name, protocol, parameter count and text (whitespace folded), and
 * its parameters' values unless `values` is false (a creation binds what is new in each task).
 */
const described = (s: TappedStatement, values: boolean): string =>
  `${s.name || '(unnamed)'} ${s.protocol} ${s.values.length}p: ${s.text.replace(/\s+/g, ' ').trim()}` +
  (values ? ` ${JSON.stringify(s.values)}` : '');

/** The request's statements on the app's own connections (not the job queue's, nor the listener's). */
async function statementsOf(tap: PgTap, values: boolean): Promise<string[]> {
  await sleep(20);
  return tap
    .take()
    .filter((s) => s.application === 'tasklane')
    .map((s) => described(s, values));
}

/** Fields of a request's log line that differ by process and by moment, not by what was done. */
const UNCOMPARED_LOG_FIELDS = ['time', 'pid', 'hostname', 'responseTime'];

/** A server's request log lines (those with `req`), as JSON objects, taken as they are read. */
function requestLogs(child: ChildProcess): () => string[] {
  let lines: string[] = [];
  let rest = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const part of parts) {
      if (!part.startsWith('{')) continue;
      const line = JSON.parse(part) as Record<string, unknown>;
      if (line.req === undefined) continue;
      for (const field of UNCOMPARED_LOG_FIELDS) delete line[field];
      // The peer's port differs per connection.
      delete (line.req as Record<string, unknown>).remotePort;
      lines.push(JSON.stringify(line));
    }
  });
  return () => {
    const taken = lines;
    lines = [];
    return taken;
  };
}

/** An HS256 token with Tasklane's secret and `claims` (for the refused-token exchanges). */
function signed(claims: Record<string, unknown>): string {
  const segment = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const content = `${segment({ alg: 'HS256', typ: 'JWT' })}.${segment(claims)}`;
  return `${content}.${createHmac('sha256', SECRET).update(content).digest('base64url')}`;
}

export interface ParityResult {
  exchange: string;
  status: number;
  headers: number;
  statements: string[];
}

interface ParityServer {
  url: string;
  tap: PgTap;
  /** Its request log lines since the last call. */
  logs: () => string[];
}

/**
 * Before anything is measured, the baseline must answer the benchmarked requests, and a few
 * refused ones, as Tasklane does — the same status, every header but Date in the same order with
 * the same values, and the same body, byte for byte (for a POST, but for what is new in each task)
 * — and send PostgreSQL the same statements for each (the same text, prepared-statement name,
 * protocol, parameter count and, but for a creation, parameter values, in the same order), read
 * from a wire-protocol tap between each server and the database, and log the same request line
 * (every field but the time, process, host, the peer's port and the duration). `servers` are
 * instances started for this check through their taps, their stdout read.
 */
async function checkParity(
  tasklane: ParityServer,
  baseline: ParityServer,
  exchanges: Exchange[],
): Promise<ParityResult[]> {
  const differences: string[] = [];
  const results: ParityResult[] = [];
  for (const exchange of exchanges) {
    let attempt = 0;
    for (;;) {
      tasklane.tap.take();
      baseline.tap.take();
      const values = exchange.method !== 'POST';
      const ours = await ask(tasklane.url, exchange);
      const ourStatements = await statementsOf(tasklane.tap, values);
      const theirs = await ask(baseline.url, exchange);
      const theirStatements = await statementsOf(baseline.tap, values);
      const [ourLogs, theirLogs] = [tasklane.logs(), baseline.logs()];
      const found: string[] = [];
      if (ours.status !== theirs.status) found.push(`${exchange.name}: status ${ours.status} vs ${theirs.status}`);
      if (ours.headers.join('\n') !== theirs.headers.join('\n'))
        found.push(`${exchange.name}: headers\n  ${ours.headers.join('\n  ')}\n vs\n  ${theirs.headers.join('\n  ')}`);
      if (ours.body !== theirs.body) found.push(`${exchange.name}: body\n  ${ours.body}\n  ${theirs.body}`);
      if (ourStatements.join('\n') !== theirStatements.join('\n'))
        found.push(`${exchange.name}: SQL\n  ${ourStatements.join('\n  ')}\n vs\n  ${theirStatements.join('\n  ')}`);
      if (ourLogs.length !== 1 || ourLogs.join('\n') !== theirLogs.join('\n'))
        found.push(`${exchange.name}: log lines\n  ${ourLogs.join('\n  ')}\n vs\n  ${theirLogs.join('\n  ')}`);
      // A statement of a timer (the sessions' last use, written every 30 s) may fall into one
      // exchange: that exchange is asked once more.
      if (found.length > 0 && attempt++ === 0) continue;
      differences.push(...found);
      results.push({
        exchange: exchange.name,
        status: ours.status,
        headers: ours.headers.length,
        statements: ourStatements,
      });
      break;
    }
  }
  if (differences.length > 0) {
    throw new Error(`The baseline does not answer as Tasklane does:\n${differences.join('\n')}`);
  }
  console.log(
    `parity: the baseline answers ${exchanges.length} requests as Tasklane does, with the same SQL and log line`,
  );
  return results;
}

/** Tasklane, as deployed (compiled, production mode), on `databaseUrl`. */
function startTasklane(port: number, databaseUrl: string, logs = false): ChildProcess {
  return start(
    ['dist/src/main.js'],
    productionEnv(port, {
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: String(POOL),
      JWT_SECRET: SECRET,
      ...UNLIMITED_RATES,
    }),
    { logs },
  );
}

/** The baseline: hand-written Express 5 + pg, same database, pool size and rate limit. */
function startBaseline(port: number, databaseUrl: string, logs = false): ChildProcess {
  return start(
    ['-r', './tools/swc-register.js', 'bench/baseline/server.ts'],
    {
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: String(POOL),
      JWT_SECRET: SECRET,
      RATE_LIMIT_PER_MINUTE: UNLIMITED_RATES.RATE_LIMIT_PER_MINUTE,
    },
    { logs },
  );
}

async function main(): Promise<void> {
  const { databaseUrl, release } = await benchDatabase('bench');
  const children: ChildProcess[] = [];
  const taps: PgTap[] = [];
  try {
    const appPort = await freePort();
    const spawned = Date.now();
    const app = startTasklane(appPort, databaseUrl);
    children.push(app);
    const app_ = `http://127.0.0.1:${appPort}`;
    await waitFor(`${app_}/health/ready`, app);
    const startToReadyMs = Date.now() - spawned;
    await sleep(500);
    const idleRss = rssMiB(app.pid!);

    // --- Data: a user, an org, a project, 1,001 tasks
    const { email, password, token, apiKey, projectId, taskId } = await seedBenchData(app_, databaseUrl);

    const basePort = await freePort();
    const baseline = startBaseline(basePort, databaseUrl);
    children.push(baseline);
    const base_ = `http://127.0.0.1:${basePort}`;
    await waitFor(`${base_}/hello`, baseline);

    const auth = { authorization: `Bearer ${token}` };
    const listPath = `/api/v1/projects/${projectId}/tasks?status=todo,in_progress&limit=50`;
    const createBody = JSON.stringify({ title: 'Benchmark task', priority: 'high', labels: ['bench'] });
    const json = { 'content-type': 'application/json' };
    const rows: Row[] = [];

    const firstPage = (await (await fetch(`${app_}${listPath}`, { headers: auth })).json()) as {
      meta: { page: { nextCursor: string } };
    };
    const tasksPath = `/api/v1/projects/${projectId}/tasks`;

    // --- Parity: one more instance of each, on the same database through a wire-protocol tap
    const parityServer = async (
      launch: (port: number, url: string, logs: boolean) => ChildProcess,
      probe: string,
    ): Promise<ParityServer & { child: ChildProcess }> => {
      const tap = await startPgTap(databaseUrl);
      taps.push(tap);
      const port = await freePort();
      const child = launch(port, tap.url, true);
      children.push(child);
      const logs = requestLogs(child);
      const url = `http://127.0.0.1:${port}`;
      await waitFor(`${url}${probe}`, child);
      logs();
      return { url, tap, logs, child };
    };
    const [ourParity, theirParity] = await Promise.all([
      parityServer(startTasklane, '/health/ready'),
      parityServer(startBaseline, '/hello'),
    ]);
    // Tokens signed with the right key that Tasklane refuses for their times (contract §5)
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, number>;
    const now = Math.floor(Date.now() / 1000);
    const refused = (changes: Record<string, number | undefined>) => ({
      authorization: `Bearer ${signed({ ...claims, ...changes })}`,
    });
    const parity = await checkParity(ourParity, theirParity, [
      { name: 'GET /health/live', path: '/health/live' },
      { name: 'GET by id', path: `/api/v1/tasks/${taskId}`, headers: auth },
      { name: 'GET by id again', path: `/api/v1/tasks/${taskId}`, headers: auth },
      { name: 'GET a list', path: listPath, headers: auth },
      { name: 'GET a list by priority', path: `${tasksPath}?priority=high,urgent&limit=5`, headers: auth },
      {
        name: 'GET its next page',
        path: `${listPath}&cursor=${encodeURIComponent(firstPage.meta.page.nextCursor)}`,
        headers: auth,
      },
      { name: 'POST a task', path: tasksPath, method: 'POST', headers: { ...auth, ...json }, body: createBody },
      { name: 'no token', path: `/api/v1/tasks/${taskId}` },
      { name: 'expired token', path: `/api/v1/tasks/${taskId}`, headers: refused({ iat: now - 120, exp: now - 60 }) },
      { name: 'token without iat', path: `/api/v1/tasks/${taskId}`, headers: refused({ iat: undefined }) },
      { name: 'token without exp', path: `/api/v1/tasks/${taskId}`, headers: refused({ exp: undefined }) },
      {
        name: 'token living too long',
        path: `/api/v1/tasks/${taskId}`,
        headers: refused({ iat: now, exp: now + 86_400 }),
      },
      { name: 'token from the future', path: `/api/v1/tasks/${taskId}`, headers: refused({ iat: now + 600 }) },
      { name: 'unknown task', path: `/api/v1/tasks/${randomUUID()}`, headers: auth },
      { name: 'malformed id', path: '/api/v1/tasks/not-a-uuid', headers: auth },
      { name: 'edited cursor', path: `${listPath}&cursor=${firstPage.meta.page.nextCursor.slice(1)}`, headers: auth },
      {
        name: 'cursor of another list',
        path: `${tasksPath}?limit=50&cursor=${encodeURIComponent(firstPage.meta.page.nextCursor)}`,
        headers: auth,
      },
      { name: 'bad list query', path: `${tasksPath}?limit=0&status=todo,nope&extra=1`, headers: auth },
      {
        name: 'invalid task',
        path: tasksPath,
        method: 'POST',
        headers: { ...auth, ...json },
        body: JSON.stringify({ title: '  ', status: 'open', labels: ['a', 'a', ''], extra: 1 }),
      },
      {
        name: 'not JSON',
        path: tasksPath,
        method: 'POST',
        headers: { ...auth, 'content-type': 'text/plain' },
        body: 'x',
      },
    ]);
    for (const server of [ourParity, theirParity]) server.child.kill('SIGTERM');
    const ours = app.pid!;
    const theirs = baseline.pid!;

    // RSS: the highest reading of each server over every scenario (sampled every 200 ms)
    let peakRss = 0;
    let peakBaselineRss = 0;
    const sampler = setInterval(() => {
      peakRss = Math.max(peakRss, rssMiB(ours));
      peakBaselineRss = Math.max(peakBaselineRss, rssMiB(theirs));
    }, 200);
    if (want('live')) {
      rows.push(
        row(
          'GET /health/live vs the same answer from a bare Express route',
          await compare({ url: `${app_}/health/live`, pid: ours }, { url: `${base_}/health/live`, pid: theirs }),
          0.6,
        ),
      );
    }

    if (want('byId')) {
      const byId = await compare(
        { url: `${app_}/api/v1/tasks/${taskId}`, headers: auth, pid: ours },
        { url: `${base_}/api/v1/tasks/${taskId}`, headers: auth, pid: theirs },
      );
      rows.push(row('GET /api/v1/tasks/{id} (authenticated)', byId, 0.85, 1.5));
    }
    // The same request with an org API key instead of an access token, both on Tasklane (§18: a
    // key checked from memory, like a token), with the app's CPU per request next to req/s.
    if (want('apiKey')) {
      const sameRequest = (authorization: string): Side => ({
        url: `${app_}/api/v1/tasks/${taskId}`,
        headers: { authorization },
        pid: ours,
      });
      const m = await compare(sameRequest(`Bearer ${apiKey}`), sameRequest(`Bearer ${token}`));
      rows.push({
        ...row('GET by id with an API key vs with an access token (both Tasklane)', m, 0.95),
        note: 'its "baseline" columns are Tasklane with an access token',
      });
    }
    if (want('list')) {
      rows.push(
        row(
          'GET a filtered list of 50 tasks',
          await compare(
            { url: `${app_}${listPath}`, headers: auth, pid: ours },
            { url: `${base_}${listPath}`, headers: auth, pid: theirs },
          ),
          0.75,
          1.5,
        ),
      );
    }
    if (want('post')) {
      const post = (server: string, pid: number): Side => ({
        url: `${server}/api/v1/projects/${projectId}/tasks`,
        method: 'POST',
        headers: { ...auth, ...json },
        body: createBody,
        pid,
      });
      rows.push(
        row(
          'POST a task (validation, numbering, audit)',
          await compare(post(app_, ours), post(base_, theirs)),
          0.8,
          1.5,
        ),
      );
    }

    const loginBody = JSON.stringify({ email, password });
    // Login: what argon2id allows on this machine, measured in this process with the same
    // parameters and as many verifications at once as libuv has threads.
    if (want('login')) {
      const options = { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 };
      const hashed = await hash(password, options);
      const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
      const hashStarted = Date.now();
      let verified = 0;
      await Promise.all(
        Array.from({ length: threads }, async () => {
          while (Date.now() - hashStarted < DURATION * 1000) {
            await verify(hashed, password);
            verified++;
          }
        }),
      );
      const argonRate = verified / ((Date.now() - hashStarted) / 1000);
      const login = await load({ url: `${app_}/api/v1/auth/login`, method: 'POST', headers: json, body: loginBody });
      rows.push({
        scenario: 'POST /auth/login vs argon2id verifications/s on this machine',
        tasklane: login,
        baseline: { rps: argonRate, p50: 0, p99: 0, errors: 0 },
        ratio: login.rps / argonRate,
        target: '—',
        met: true,
        note: 'the baseline is the hashing limit, not a server',
      });
    }

    // GETs while a login storm runs, against the same GETs alone.
    if (want('storm')) {
      const alone = await load({ url: `${app_}/api/v1/tasks/${taskId}`, headers: auth });
      const [during] = await Promise.all([
        load({ url: `${app_}/api/v1/tasks/${taskId}`, headers: auth }),
        load({ url: `${app_}/api/v1/auth/login`, method: 'POST', headers: json, body: loginBody, connections: 16 }),
      ]);
      rows.push({
        scenario: 'GET by id during a login storm vs alone (both Tasklane)',
        tasklane: during,
        baseline: alone,
        ratio: during.rps / alone.rps,
        target: '≥ 0.50',
        met: during.rps / alone.rps >= 0.5,
      });
    }

    clearInterval(sampler);
    const report = {
      date: new Date().toISOString(),
      machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      settings: { duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, pool: POOL },
      startToReadyMs,
      rss: {
        idleMiB: idleRss,
        underLoadMiB: peakRss,
        baselineIdleMiB: rssMiB(baseline.pid!),
        baselineUnderLoadMiB: peakBaselineRss,
      },
      rows,
      parity,
    };
    console.log(renderTable(report.rows));
    for (const r of report.rows.filter((r) => r.note)) console.log(`- ${r.scenario}: ${r.note}`);
    console.log(`start → ready ${startToReadyMs} ms; RSS idle ${idleRss} MiB, under load ${peakRss} MiB`);
    if (!SMOKE && !ONLY) {
      const file = join(ROOT, 'BENCHMARKS.md');
      // Formatted as `npm run lint` wants it (prettier's markdown tables).
      writeFileSync(file, await format(renderMarkdown(report), { ...(await resolveConfig(file)), parser: 'markdown' }));
      writeFileSync(join(ROOT, 'bench', 'chart.svg'), renderChart(report.rows));
      console.log('Wrote BENCHMARKS.md and bench/chart.svg');
    }
    const errors = rows.reduce((s, r) => s + r.tasklane.errors + r.baseline.errors, 0);
    if (errors > 0) {
      console.error(`${errors} requests failed (non-2xx or errors)`);
      process.exitCode = 1;
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await sleep(500);
    await Promise.all(taps.map((tap) => tap.close()));
    await release();
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const verdict = (r: Row, notMet: string) => (r.target === '—' ? '' : r.met ? 'met' : notMet);

const cpuText = (m: Measure) => (m.cpu === undefined ? '—' : `${fmt(m.cpu * 1000)} µs`);
const cpuRatio = (r: Row) =>
  r.tasklane.cpu === undefined || r.baseline.cpu === undefined ? undefined : r.tasklane.cpu / r.baseline.cpu;

function renderTable(rows: Row[]): string {
  return rows
    .map(
      (r) =>
        `${r.scenario.padEnd(64)} ${fmt(r.tasklane.rps).padStart(8)} vs ${fmt(r.baseline.rps).padStart(8)} req/s  ratio ${fmt(r.ratio, 2)} ${r.target}` +
        `  CPU/req ${cpuText(r.tasklane)} vs ${cpuText(r.baseline)}  p99 ratio ${fmt(r.p99Ratio ?? 0, 2)} ${verdict(r, 'NOT MET')}`,
    )
    .join('\n');
}

interface Report {
  date: string;
  machine: string;
  node: string;
  settings: { duration: number; rounds: number; connections: number; pool: number };
  startToReadyMs: number;
  rss: { idleMiB: number; underLoadMiB: number; baselineIdleMiB: number; baselineUnderLoadMiB: number };
  rows: Row[];
  parity: ParityResult[];
}

/** BENCHMARKS.md from here on is not rewritten by this script. */
const KEPT_MARK = '<!-- kept: what follows is not rewritten by npm run bench -->';

function renderMarkdown(report: Report): string {
  const lines = report.rows.map((r) => {
    const cpu = cpuRatio(r);
    const p99 =
      r.p99Ratio === undefined ? '—' : `${fmt(r.p99Ratio, 2)}${r.p99Target ? ` (≤ ${fmt(r.p99Target, 1)})` : ''}`;
    return `| ${r.scenario} | ${fmt(r.tasklane.rps)} | ${fmt(r.tasklane.p50, 1)} / ${fmt(r.tasklane.p99, 1)} | ${cpuText(r.tasklane)} | ${fmt(r.baseline.rps)} | ${fmt(r.baseline.p50, 1)} / ${fmt(r.baseline.p99, 1)} | ${cpuText(r.baseline)} | **${fmt(r.ratio, 2)}** (${r.target}) | ${cpu === undefined ? '—' : fmt(cpu, 2)} | ${p99} | ${verdict(r, '**not met**')} |`;
  });
  const parityLines = report.parity.map(
    (p) =>
      `| ${p.exchange} | ${p.status} | ${p.headers} | ${p.statements.length} | ${p.statements.map((s) => `\`${s.split(':')[0]}\``).join(', ') || '—'} |`,
  );
  const previous = (() => {
    try {
      const text = readFileSync(join(ROOT, 'BENCHMARKS.md'), 'utf8');
      // Everything from the marker on is written by hand (or by the other benchmarks) and kept.
      const marker = text.indexOf(KEPT_MARK);
      const at = marker >= 0 ? marker : text.indexOf('## What the fixes bought');
      return at >= 0 ? text.slice(at) : '';
    } catch {
      return '';
    }
  })();
  return `# Benchmarks

Written by \`npm run bench\` (bench/run.ts) on ${report.date.slice(0, 10)}. Tasklane (compiled,
\`NODE_ENV=production\`, pino logging to /dev/null) against a hand-written baseline
([bench/baseline/server.ts](bench/baseline/server.ts): Express 5 + \`pg\`, the same SQL and named
statements, JWT verification, envelope, ETag, helmet's headers, the per-client rate limit and its
headers, and a pino line per request), on the same PostgreSQL database with the same pool size
(${report.settings.pool}). autocannon, ${report.settings.connections} connections, ${report.settings.rounds} rounds of ${report.settings.duration} s each, alternating the
two, after a 2 s warm-up of each; every figure is the median of the rounds. CPU per request is
the measured server's utime + stime (\`/proc/<pid>/stat\`) over a round ÷ the requests it answered:
steadier than req/s on this machine, where load generator and servers share the cores. Ratios
are Tasklane ÷ baseline (req/s: higher is better; CPU and p99: lower is better).

- Machine: ${report.machine}; Node ${report.node}
- Command: \`npm run bench\` (options: \`-- --duration 5 --rounds 3 --connections 32\`)
- Start to ready (spawn → \`/health/ready\` 200, migrations included): ${report.startToReadyMs} ms
- RSS: idle ${report.rss.idleMiB} MiB, under load ${report.rss.underLoadMiB} MiB — the highest reading over every scenario; target ≤ 300 MiB, ${report.rss.underLoadMiB <= 300 ? 'met' : '**not met**'} (baseline: idle ${report.rss.baselineIdleMiB} MiB, under load ${report.rss.baselineUnderLoadMiB} MiB)

| scenario | Tasklane req/s | p50 / p99 ms | CPU / req | baseline req/s | p50 / p99 ms | CPU / req | req/s ratio (target) | CPU ratio | p99 ratio (target) | |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |
${lines.join('\n')}

${report.rows
  .filter((r) => r.note)
  .map((r) => `- ${r.scenario}: ${r.note}.`)
  .join('\n')}

### Parity, checked before measuring

One more instance of each server, on the same database through a wire-protocol tap
([bench/pg-tap.ts](bench/pg-tap.ts)), is sent each request below; the run stops unless both give
the same status, every response header but \`Date\` (names, order and values; the rate-limit
window's end to the second), the same body byte for byte (for a POST, but for what is new in
each task), send PostgreSQL the same statements (text, prepared-statement name, protocol,
parameter count and — but for a creation — the parameters' values, in order), and log the same
request line (every field but the time, process, host and duration). The refused tokens are
signed with the right key and refused for their times: expired, without \`iat\` or \`exp\`, living
longer than the access TTL, issued in the future. Named statements show their name; \`(unnamed)\`
are parsed each time.

| request | status | headers compared | statements | sent |
| --- | ---: | ---: | ---: | --- |
${parityLines.join('\n')}

![Ratios to the baseline](bench/chart.svg)

${previous || `${KEPT_MARK}\n\n## What the fixes bought\n\nNothing recorded yet.\n`}`;
}

function renderChart(rows: Row[]): string {
  const width = 760;
  const barHeight = 26;
  const left = 420;
  const scale = (width - left - 60) / Math.max(1.6, ...rows.map((r) => r.ratio));
  const bars = rows
    .map((r, i) => {
      const y = 30 + i * (barHeight + 10);
      const w = Math.max(1, r.ratio * scale);
      const colour = r.target === '—' ? '#757575' : r.met ? '#2e7d32' : '#c62828';
      const label = r.scenario.replace(/&/g, '&amp;').replace(/</g, '&lt;');
      return `<text x="${left - 8}" y="${y + 17}" text-anchor="end" font-size="12">${label}</text>
<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colour}"/>
<text x="${left + w + 6}" y="${y + 17}" font-size="12">${r.ratio.toFixed(2)}</text>`;
    })
    .join('\n');
  const one = left + scale;
  const height = 40 + rows.length * (barHeight + 10);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="18" font-size="13" font-weight="bold">Tasklane ÷ baseline (green: target met, red: not met, grey: no target)</text>
<line x1="${one}" y1="24" x2="${one}" y2="${height - 6}" stroke="#555" stroke-dasharray="4 3"/>
${bars}
</svg>
`;
}

// Exits once done: nothing the run opened may keep the process (and CI) waiting.
main().then(
  () => process.exit(),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
