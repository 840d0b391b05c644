/**
 * `npm run bench`: Tasklane against hand-written baselines (bench/baseline/server.ts), on the
 * same PostgreSQL database with the same pool size, alternating the two over several rounds
 * after a warm-up, once the baseline is seen to answer as Tasklane does (checkParity). Writes BENCHMARKS.md and bench/chart.svg. `npm run bench -- --smoke` runs
 * every scenario for a second and writes nothing (CI uses it so that the harness keeps working).
 * `-- --only byId,list` runs only those scenarios (live, byId, apiKey, list, post, p99, login, storm; p99
 * needs byId's peak and runs it too) and writes nothing either.
 */
import { Algorithm, hash, verify } from '@node-rs/argon2';
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDatabase, seedBenchData } from './seed';

const ROOT = resolve(__dirname, '..');
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
}
interface Row {
  scenario: string;
  tasklane: Measure;
  baseline: Measure;
  ratio: number;
  target: string;
  met: boolean;
  note?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

function rssMiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('VmRSS:'));
  return Math.round(Number(line?.replace(/\D/g, '') ?? 0) / 1024);
}

async function waitFor(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return Date.now() - started;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`${url} did not answer within ${timeoutMs} ms`);
    await sleep(25);
  }
}

function start(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    // Both servers log one JSON line per request; both go to /dev/null alike.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

type Options = Omit<autocannon.Options, 'url'> & { url: string };

async function load(options: Options): Promise<Measure> {
  const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

const average = (measures: Measure[]): Measure => ({
  rps: measures.reduce((s, m) => s + m.rps, 0) / measures.length,
  p50: measures.reduce((s, m) => s + m.p50, 0) / measures.length,
  p99: measures.reduce((s, m) => s + m.p99, 0) / measures.length,
  errors: measures.reduce((s, m) => s + m.errors, 0),
});

/** Warm-up, then ROUNDS rounds of Tasklane and baseline alternately (who goes first alternates too). */
async function compare(a: Options, b: Options): Promise<{ tasklane: Measure; baseline: Measure }> {
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
  return { tasklane: average(ours), baseline: average(theirs) };
}

/** utime + stime of a process so far, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** `compare` of two loads on one process, with that process's CPU per request for each (medians of the rounds). */
async function compareCpu(
  pid: number,
  a: Options,
  b: Options,
): Promise<{
  tasklane: Measure;
  baseline: Measure;
  cpuPerRequest: { tasklane: number; baseline: number };
  cpuRatio: number;
}> {
  const measured = async (options: Options, cpu: number[]): Promise<Measure> => {
    const before = cpuMs(pid);
    const result = await autocannon({ connections: CONNECTIONS, duration: DURATION, ...options });
    cpu.push((cpuMs(pid) - before) / Math.max(1, result.requests.total));
    return {
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.non2xx,
    };
  };
  if (!SMOKE) {
    await load({ ...a, duration: 2 });
    await load({ ...b, duration: 2 });
  }
  const ours: Measure[] = [];
  const theirs: Measure[] = [];
  const cpuA: number[] = [];
  const cpuB: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      ours.push(await measured(a, cpuA));
      theirs.push(await measured(b, cpuB));
    } else {
      theirs.push(await measured(b, cpuB));
      ours.push(await measured(a, cpuA));
    }
  }
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
  const cpuPerRequest = { tasklane: median(cpuA), baseline: median(cpuB) };
  return {
    tasklane: average(ours),
    baseline: average(theirs),
    cpuPerRequest,
    cpuRatio: cpuPerRequest.tasklane / cpuPerRequest.baseline,
  };
}

function row(scenario: string, m: { tasklane: Measure; baseline: Measure }, minimum?: number): Row {
  const ratio = m.tasklane.rps / m.baseline.rps;
  return {
    scenario,
    ...m,
    ratio,
    target: minimum === undefined ? '—' : `≥ ${minimum.toFixed(2)}`,
    met: minimum === undefined || ratio >= minimum,
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
  headers: Record<string, string | null>;
  body: string;
}

/** The headers a client reads; the rest (security headers, rate limits) is what the baseline leaves out. */
const COMPARED_HEADERS = ['content-type', 'etag', 'location', 'www-authenticate', 'retry-after', 'x-request-id'];
/** What is new in every task a POST creates, and differs between the two servers' answers for that alone. */
const NEW_IN_EACH_TASK = ['id', 'number', 'key', 'createdAt', 'updatedAt'];

async function ask(server: string, exchange: Exchange): Promise<Answer> {
  const res = await fetch(`${server}${exchange.path}`, {
    method: exchange.method ?? 'GET',
    headers: { 'x-request-id': `parity-${exchange.name.replace(/\W+/g, '-')}`, ...exchange.headers },
    body: exchange.body,
  });
  let body = await res.text();
  const headers = Object.fromEntries(COMPARED_HEADERS.map((name) => [name, res.headers.get(name)]));
  if (exchange.method === 'POST' && res.status === 201) {
    const created = JSON.parse(body) as { data: Record<string, unknown> };
    headers.location = headers.location?.replace(String(created.data.id), '{id}') ?? null;
    for (const field of NEW_IN_EACH_TASK) created.data[field] = `{${field}}`;
    body = JSON.stringify(created);
  }
  return { status: res.status, headers, body };
}

/**
 * Before anything is measured, the baseline must answer the benchmarked requests, and a few
 * refused ones, as Tasklane does: the same status, the same headers a client reads and the same
 * body, byte for byte (field order included; for a POST, but for what is new in each task).
 */
async function checkParity(tasklane: string, baseline: string, exchanges: Exchange[]): Promise<void> {
  const differences: string[] = [];
  for (const exchange of exchanges) {
    const ours = await ask(tasklane, exchange);
    const theirs = await ask(baseline, exchange);
    if (ours.status !== theirs.status) differences.push(`${exchange.name}: status ${ours.status} vs ${theirs.status}`);
    for (const name of COMPARED_HEADERS) {
      if (ours.headers[name] !== theirs.headers[name]) {
        differences.push(`${exchange.name}: ${name} ${ours.headers[name]} vs ${theirs.headers[name]}`);
      }
    }
    if (ours.body !== theirs.body) differences.push(`${exchange.name}: body\n  ${ours.body}\n  ${theirs.body}`);
  }
  if (differences.length > 0) {
    throw new Error(`The baseline does not answer as Tasklane does:\n${differences.join('\n')}`);
  }
  console.log(`parity: the baseline answers ${exchanges.length} requests as Tasklane does`);
}

async function main(): Promise<void> {
  const { databaseUrl, release } = await benchDatabase('bench');
  const children: ChildProcess[] = [];
  try {
    // --- Tasklane, as deployed (compiled, production mode)
    const appPort = await freePort();
    const spawned = Date.now();
    const app = start(['dist/src/main.js'], {
      NODE_ENV: 'production',
      PORT: String(appPort),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: String(POOL),
      JWT_SECRET: SECRET,
      // Required in production; nothing in the benchmarks sends mail.
      SMTP_URL: 'smtp://127.0.0.1:9',
      APP_URL: 'http://127.0.0.1',
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '1000000',
      LOGIN_RATE_LIMIT_PER_IP: '1000000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
    });
    children.push(app);
    const app_ = `http://127.0.0.1:${appPort}`;
    await waitFor(`${app_}/health/ready`, app);
    const startToReadyMs = Date.now() - spawned;
    await sleep(500);
    const idleRss = rssMiB(app.pid!);

    // --- Data: a user, an org, a project, 1,001 tasks
    const { email, password, token, apiKey, projectId, taskId } = await seedBenchData(app_, databaseUrl);

    // --- Baseline: hand-written Express 5 + pg, same database and pool size
    const basePort = await freePort();
    const baseline = start(['-r', './tools/swc-register.js', 'bench/baseline/server.ts'], {
      PORT: String(basePort),
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: String(POOL),
      JWT_SECRET: SECRET,
    });
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
    await checkParity(app_, base_, [
      { name: 'GET by id', path: `/api/v1/tasks/${taskId}`, headers: auth },
      { name: 'GET a list', path: listPath, headers: auth },
      {
        name: 'GET its next page',
        path: `${listPath}&cursor=${encodeURIComponent(firstPage.meta.page.nextCursor)}`,
        headers: auth,
      },
      { name: 'POST a task', path: tasksPath, method: 'POST', headers: { ...auth, ...json }, body: createBody },
      { name: 'no token', path: `/api/v1/tasks/${taskId}` },
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

    if (want('live')) {
      rows.push(
        row(
          'GET /health/live vs Express "hello"',
          await compare({ url: `${app_}/health/live` }, { url: `${base_}/hello` }),
        ),
      );
    }

    let peakRss = 0;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssMiB(app.pid!))), 200);
    const byId =
      want('byId') || want('p99')
        ? await compare(
            { url: `${app_}/api/v1/tasks/${taskId}`, headers: auth },
            { url: `${base_}/api/v1/tasks/${taskId}`, headers: auth },
          )
        : undefined;
    clearInterval(sampler);
    if (byId) rows.push(row('GET /api/v1/tasks/{id} (authenticated)', byId, 0.85));
    // The same request with an org API key instead of an access token, both on Tasklane (§18: a
    // key checked from memory, like a token), with the app's CPU per request next to req/s.
    if (want('apiKey')) {
      const sameRequest = (authorization: string) => ({
        url: `${app_}/api/v1/tasks/${taskId}`,
        headers: { authorization },
      });
      const m = await compareCpu(app.pid!, sameRequest(`Bearer ${apiKey}`), sameRequest(`Bearer ${token}`));
      rows.push({
        ...row('GET by id with an API key vs with an access token (both Tasklane)', m, 0.95),
        note: `app CPU per request, API key ÷ access token: ${fmt(m.cpuRatio, 2)} (${fmt(m.cpuPerRequest.tasklane, 3)} ms vs ${fmt(m.cpuPerRequest.baseline, 3)} ms)`,
      });
    }
    if (want('list')) {
      rows.push(
        row(
          'GET a filtered list of 50 tasks',
          await compare({ url: `${app_}${listPath}`, headers: auth }, { url: `${base_}${listPath}`, headers: auth }),
          0.7,
        ),
      );
    }
    if (want('post'))
      rows.push(
        row(
          'POST a task (validation, numbering, audit)',
          await compare(
            {
              url: `${app_}/api/v1/projects/${projectId}/tasks`,
              method: 'POST',
              headers: { ...auth, ...json },
              body: createBody,
            },
            {
              url: `${base_}/api/v1/projects/${projectId}/tasks`,
              method: 'POST',
              headers: { ...auth, ...json },
              body: createBody,
            },
          ),
          0.7,
        ),
      );

    // p99 at half the baseline's peak rate: both held to the same arrival rate.
    if (byId && want('p99')) {
      const halfRate = Math.max(1, Math.floor(byId.baseline.rps / 2));
      const atHalf = await compare(
        { url: `${app_}/api/v1/tasks/${taskId}`, headers: auth, overallRate: halfRate },
        { url: `${base_}/api/v1/tasks/${taskId}`, headers: auth, overallRate: halfRate },
      );
      const p99Ratio = atHalf.tasklane.p99 / Math.max(atHalf.baseline.p99, 0.001);
      // A server that cannot keep up with the offered rate answers fewer requests, and its p99
      // then says little: the target also needs the rate held.
      const held = atHalf.tasklane.rps >= 0.95 * halfRate;
      rows.push({
        scenario: `GET by id at ${halfRate} req/s (half the baseline's peak): p99`,
        ...atHalf,
        ratio: p99Ratio,
        target: '≤ 1.50 (p99 ratio)',
        met: p99Ratio <= 1.5 && held,
        note: held ? undefined : `Tasklane served ${fmt(atHalf.tasklane.rps)} of the ${halfRate} req/s offered`,
      });
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

    const report = {
      date: new Date().toISOString(),
      machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      settings: { duration: DURATION, rounds: ROUNDS, connections: CONNECTIONS, pool: POOL },
      startToReadyMs,
      rss: { idleMiB: idleRss, underLoadMiB: peakRss, baselineIdleMiB: rssMiB(baseline.pid!) },
      rows,
    };
    console.log(renderTable(report.rows));
    for (const r of report.rows.filter((r) => r.note)) console.log(`- ${r.scenario}: ${r.note}`);
    console.log(`start → ready ${startToReadyMs} ms; RSS idle ${idleRss} MiB, under load ${peakRss} MiB`);
    if (!SMOKE && !ONLY) {
      writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderMarkdown(report));
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
    await release();
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const verdict = (r: Row, notMet: string) => (r.target === '—' ? '' : r.met ? 'met' : notMet);

function renderTable(rows: Row[]): string {
  return rows
    .map(
      (r) =>
        `${r.scenario.padEnd(64)} ${fmt(r.tasklane.rps).padStart(8)} vs ${fmt(r.baseline.rps).padStart(8)} req/s  ratio ${fmt(r.ratio, 2)} ${r.target} ${verdict(r, 'NOT MET')}`,
    )
    .join('\n');
}

interface Report {
  date: string;
  machine: string;
  node: string;
  settings: { duration: number; rounds: number; connections: number; pool: number };
  startToReadyMs: number;
  rss: { idleMiB: number; underLoadMiB: number; baselineIdleMiB: number };
  rows: Row[];
}

function renderMarkdown(report: Report): string {
  const lines = report.rows.map(
    (r) =>
      `| ${r.scenario} | ${fmt(r.tasklane.rps)} | ${fmt(r.tasklane.p50, 1)} / ${fmt(r.tasklane.p99, 1)} | ${fmt(r.baseline.rps)} | ${fmt(r.baseline.p50, 1)} / ${fmt(r.baseline.p99, 1)} | **${fmt(r.ratio, 2)}** | ${r.target} | ${verdict(r, '**not met**')} |`,
  );
  const previous = (() => {
    try {
      const text = readFileSync(join(ROOT, 'BENCHMARKS.md'), 'utf8');
      const at = text.indexOf('## What the fixes bought');
      return at >= 0 ? text.slice(at) : '';
    } catch {
      return '';
    }
  })();
  return `# Benchmarks

Written by \`npm run bench\` (bench/run.ts) on ${report.date.slice(0, 10)}. Tasklane (compiled,
\`NODE_ENV=production\`, pino logging to /dev/null) against hand-written baselines
([bench/baseline/server.ts](bench/baseline/server.ts): Express 5 + \`pg\`, the same SQL, JWT
verification, envelope and a pino line per request), on the same PostgreSQL database with the
same pool size (${report.settings.pool}). autocannon, ${report.settings.connections} connections,
${report.settings.rounds} rounds of ${report.settings.duration} s each, alternating the two,
after a 2 s warm-up of each. Ratios are Tasklane ÷ baseline (for the p99 row: Tasklane's p99 ÷
the baseline's). Everything runs on one machine, so load generator and servers share its cores.

- Machine: ${report.machine}; Node ${report.node}
- Command: \`npm run bench\` (options: \`-- --duration 5 --rounds 3 --connections 32\`)
- Start to ready (spawn → \`/health/ready\` 200, migrations included): ${report.startToReadyMs} ms
- RSS: idle ${report.rss.idleMiB} MiB, under load ${report.rss.underLoadMiB} MiB (baseline idle: ${report.rss.baselineIdleMiB} MiB)

| scenario | Tasklane req/s | p50 / p99 ms | baseline req/s | p50 / p99 ms | ratio | target | |
| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |
${lines.join('\n')}

${report.rows
  .filter((r) => r.note)
  .map((r) => `- ${r.scenario}: ${r.note}.`)
  .join('\n')}

![Ratios to the baseline](bench/chart.svg)

${previous || '## What the fixes bought\n\nNothing recorded yet.\n'}`;
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

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
