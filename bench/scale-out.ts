/**
 * `npm run bench:scale`: Tasklane scaled out on one machine (issue #12, contract §21). One seeded
 * database; three instances straight on PostgreSQL and three through PgBouncer (transaction mode,
 * `DATABASE_POOLER=transaction`), all running at once; nginx (round robin) in front of 1, 2 and 3
 * of each. Eight configurations, measured alternately in every round (forward, then backward),
 * for GET /api/v1/tasks/{id}, the list of 50 and POST a task, once every configuration is seen to
 * answer them alike:
 *
 * - one instance direct vs one instance through PgBouncer, no nginx ("PgBouncer vs direct");
 * - 1, 2 and 3 instances behind nginx, each direct and through PgBouncer (the scale-out table).
 *
 * For each: req/s, p50/p99, and the CPU per request of every process involved (the instances
 * together, nginx, PgBouncer, PostgreSQL, the load generator) from /proc/<pid>/stat, as
 * bench/run.ts and bench/compare-builds.ts measure it; the PostgreSQL connections held; and how
 * busy the measured processes and the whole machine were. Medians of the rounds.
 *
 * Writes its section of BENCHMARKS.md (between `<!-- scale-out:start -->` and
 * `<!-- scale-out:end -->`, appended at the end when absent; the rest of the file is left as it
 * is) and the raw results as JSON (`--results`, default in the temporary folder).
 * `-- --smoke` runs every cell for a second and writes nothing. `-- --render <results.json>`
 * writes the section again from saved results, without measuring.
 * Needs nginx and pgbouncer installed (Debian: `apt-get install nginx pgbouncer`) and `npm run
 * build` (the script line does it). PostgreSQL: embedded, or DATABASE_URL (a user that may create
 * databases); its CPU is counted when it runs on this machine.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { format, resolveConfig } from 'prettier';
import { Nginx, startNginx } from '../test/support/nginx';
import { PgBouncer, startPgBouncer } from '../test/support/pgbouncer';
import { writeBenchmarksSection } from './benchmarks-section';
import { benchDatabase, seedBenchData } from './seed';

const ROOT = resolve(__dirname, '..');
const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    // Server connections PgBouncer keeps to PostgreSQL for all the pooled instances together.
    'bouncer-pool': { type: 'string', default: '10' },
    results: { type: 'string', default: join(tmpdir(), `tasklane-scale-out-${Date.now()}.json`) },
    render: { type: 'string' },
  },
});
const SMOKE = args.smoke!;
const DURATION = SMOKE ? 1 : Number(args.duration);
const ROUNDS = SMOKE ? 1 : Number(args.rounds);
const CONNECTIONS = SMOKE ? 4 : Number(args.connections);
const WARM_UP = SMOKE ? 0 : 2;
const POOL = 10;
const BOUNCER_POOL = Number(args['bouncer-pool']);
const MAX_INSTANCES = 3;
const SECRET = randomBytes(36).toString('base64url');
/** Clock ticks per second of /proc/<pid>/stat and /proc/stat (USER_HZ, 100 on Linux), as bench/run.ts assumes. */
const TICK_MS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

// --- CPU and connections from /proc ---------------------------------------------------------

interface ProcStat {
  ppid: number;
  comm: string;
  /** utime + stime, ms. */
  own: number;
  /** cutime + cstime (children that exited and were waited for), ms. */
  reaped: number;
}

function procStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = text.lastIndexOf(') ');
    const fields = text.slice(close + 2).split(' ');
    return {
      comm: text.slice(text.indexOf('(') + 1, close),
      ppid: Number(fields[1]),
      own: (Number(fields[11]) + Number(fields[12])) * TICK_MS,
      reaped: (Number(fields[13]) + Number(fields[14])) * TICK_MS,
    };
  } catch {
    return undefined; // gone, or not on this machine
  }
}

function allProcesses(): Map<number, ProcStat> {
  const table = new Map<number, ProcStat>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(Number(entry));
    if (stat) table.set(Number(entry), stat);
  }
  return table;
}

/**
 * CPU so far of `root` and everything below it, in ms: each live process's own time and what its
 * exited children left in its cutime/cstime (PostgreSQL's backends, nginx's workers).
 */
function treeCpuMs(table: Map<number, ProcStat>, root: number): number {
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop()!;
    const stat = table.get(pid);
    if (!stat) continue;
    total += stat.own + stat.reaped;
    for (const [child, s] of table) if (s.ppid === pid) pending.push(child);
  }
  return total;
}

/** The processes named `comm` whose parent is this process (nginx's master, PgBouncer). */
function ownChildren(comm: string): number[] {
  return [...allProcesses()].filter(([, s]) => s.ppid === process.pid && s.comm === comm).map(([pid]) => pid);
}

/** Busy and total ticks of the whole machine (/proc/stat), for how busy it was apart from us. */
function machineTicks(): { busy: number; total: number } {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((s, t) => s + t, 0);
  return { busy: total - ticks[3] - ticks[4], total };
}

/** Established TCP connections of process `pid` to `port` on this machine. */
function connectionsTo(pid: number, port: number): number {
  let inodes: Set<string>;
  try {
    inodes = new Set(
      readdirSync(`/proc/${pid}/fd`)
        .map((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`);
          } catch {
            return '';
          }
        })
        .filter((link) => link.startsWith('socket:['))
        .map((link) => link.slice(8, -1)),
    );
  } catch {
    return 0;
  }
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const fields = line.trim().split(/\s+/);
      const remotePort = parseInt(fields[2].split(':')[1], 16);
      if (remotePort === port && fields[3] === '01' && inodes.has(fields[9])) count++;
    }
  }
  return count;
}

// --- The pieces -----------------------------------------------------------------------------

interface Instance {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
}

async function waitReady(instance: Instance, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  for (;;) {
    if (instance.child.exitCode !== null)
      throw new Error(`instance ${instance.name} exited with ${instance.child.exitCode}`);
    try {
      if ((await fetch(`${instance.url}/health/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`instance ${instance.name} not ready in ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function startInstance(name: string, database: Record<string, string>): Promise<Instance> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(port),
      HOST: '127.0.0.1',
      ...database,
      DB_POOL_MAX: String(POOL),
      JWT_SECRET: SECRET,
      // Required in production; nothing in the benchmarks sends mail.
      SMTP_URL: 'smtp://127.0.0.1:9',
      APP_URL: 'http://127.0.0.1',
      LOG_LEVEL: 'info',
      // As deployed behind a proxy; nothing here depends on the client address.
      TRUST_PROXY: 'loopback',
      RATE_LIMIT_PER_MINUTE: '1000000',
      LOGIN_RATE_LIMIT_PER_IP: '1000000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
    },
    // One JSON log line per request, to /dev/null for every instance alike.
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  return { name, port, url: `http://127.0.0.1:${port}`, child };
}

async function stopInstance(instance: Instance): Promise<void> {
  if (instance.child.exitCode !== null || instance.child.signalCode !== null) return;
  const exited = once(instance.child, 'exit');
  instance.child.kill('SIGTERM');
  const timer = setTimeout(() => instance.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

type Path = 'direct' | 'pgbouncer';

interface Configuration {
  key: string;
  path: Path;
  instances: Instance[];
  nginx?: { server: Nginx; pid: number };
  url: string;
}

interface Scenario {
  key: string;
  name: string;
  path: string;
  method?: 'POST';
  body?: string;
}

// --- Measuring ------------------------------------------------------------------------------

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  errors: number;
  /** CPU per request, µs. */
  app: number;
  nginx?: number;
  pgbouncer?: number;
  postgres?: number;
  loadGenerator: number;
  /** CPU of the measured processes ÷ wall time, and the whole machine's (cores). */
  coresMeasured: number;
  coresMachine: number;
  /** PostgreSQL connections held by the configuration mid-run: the instances' own, and PgBouncer's. */
  pgDirect?: number;
  pgViaBouncer?: number;
}

interface Cell {
  scenario: string;
  config: string;
  rounds: Sample[];
  median: Sample;
}

interface Pids {
  postmaster?: number;
  pgPort: number;
  bouncer?: { pid: number; port: number };
}

function medianSample(samples: Sample[]): Sample {
  const keys = Object.keys(samples[0]) as (keyof Sample)[];
  const out = {} as Record<keyof Sample, number | undefined>;
  for (const key of keys) {
    const values = samples.map((s) => s[key]).filter((v): v is number => v !== undefined);
    out[key] = key === 'errors' ? values.reduce((s, v) => s + v, 0) : values.length ? median(values) : undefined;
  }
  return out as unknown as Sample;
}

async function measure(
  config: Configuration,
  scenario: Scenario,
  token: string,
  pids: Pids,
  duration: number,
): Promise<Sample> {
  const cpuOf = () => {
    const table = allProcesses();
    return {
      app: config.instances.reduce((s, i) => s + treeCpuMs(table, i.child.pid!), 0),
      nginx: config.nginx ? treeCpuMs(table, config.nginx.pid) : undefined,
      pgbouncer: config.path === 'pgbouncer' && pids.bouncer ? treeCpuMs(table, pids.bouncer.pid) : undefined,
      postgres: pids.postmaster ? treeCpuMs(table, pids.postmaster) : undefined,
    };
  };
  let connections: { pgDirect: number; pgViaBouncer?: number } | undefined;
  const sampler = setTimeout(
    () => {
      connections = {
        pgDirect: config.instances.reduce((s, i) => s + connectionsTo(i.child.pid!, pids.pgPort), 0),
        pgViaBouncer:
          config.path === 'pgbouncer' && pids.bouncer ? connectionsTo(pids.bouncer.pid, pids.pgPort) : undefined,
      };
    },
    (duration * 1000) / 2,
  );
  const machineBefore = machineTicks();
  const before = cpuOf();
  const ownBefore = process.cpuUsage();
  const startedAt = process.hrtime.bigint();
  const result = await autocannon({
    url: `${config.url}${scenario.path}`,
    method: scenario.method ?? 'GET',
    body: scenario.body,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    connections: CONNECTIONS,
    duration,
  });
  const wallMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
  const own = process.cpuUsage(ownBefore);
  const after = cpuOf();
  const machineAfter = machineTicks();
  clearTimeout(sampler);
  const answered = Math.max(1, result.requests.total);
  const perRequest = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : ((b - a) * 1000) / answered;
  const ownMs = (own.user + own.system) / 1000;
  const measuredMs =
    after.app -
    before.app +
    ownMs +
    [after.nginx, after.pgbouncer, after.postgres].reduce<number>(
      (s, v, i) => s + (v === undefined ? 0 : v - [before.nginx, before.pgbouncer, before.postgres][i]!),
      0,
    );
  const machine = {
    busy: machineAfter.busy - machineBefore.busy,
    total: machineAfter.total - machineBefore.total,
  };
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.non2xx,
    app: perRequest(before.app, after.app)!,
    nginx: perRequest(before.nginx, after.nginx),
    pgbouncer: perRequest(before.pgbouncer, after.pgbouncer),
    postgres: perRequest(before.postgres, after.postgres),
    loadGenerator: (ownMs * 1000) / answered,
    coresMeasured: measuredMs / wallMs,
    coresMachine: (machine.busy / Math.max(1, machine.total)) * cpus().length,
    pgDirect: connections?.pgDirect,
    pgViaBouncer: connections?.pgViaBouncer,
  };
}

// --- Parity ---------------------------------------------------------------------------------

/** The JSON's structure: keys in order and the type of every value (arrays: their distinct element shapes). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return [...new Set(value.map((v) => JSON.stringify(shape(v))))].map((s) => JSON.parse(s));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shape(v)]));
  }
  return value === null ? 'null' : typeof value;
}

/**
 * Before anything is measured, every configuration must answer each scenario as the first does:
 * the same status, content type and body shape, and for the GETs the same body byte for byte
 * (same data behind every one); behind nginx, the GETs must reach every instance.
 */
async function checkParity(configs: Configuration[], scenarios: Scenario[], token: string): Promise<void> {
  const differences: string[] = [];
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const clip = (text: string) => (text.length > 400 ? `${text.slice(0, 400)}…` : text);
  // GETs first, everywhere: the POSTs add tasks that a later list would show.
  const ordered = [...scenarios.filter((s) => !s.method), ...scenarios.filter((s) => s.method)];
  for (const scenario of ordered) {
    let reference: { status: number; type: string | null; shape: string; body: string } | undefined;
    for (const config of configs) {
      const upstreams = new Set<string>();
      const tries = scenario.method ? 1 : 2 * config.instances.length;
      for (let i = 0; i < tries; i++) {
        const res = await fetch(`${config.url}${scenario.path}`, {
          method: scenario.method ?? 'GET',
          // The same request id everywhere: the envelope's meta echoes it.
          headers: { ...headers, 'x-request-id': `parity-${scenario.key}` },
          body: scenario.body,
        });
        const body = await res.text();
        const upstream = res.headers.get('x-upstream-addr');
        if (upstream) upstreams.add(upstream);
        let parsed: unknown;
        try {
          parsed = JSON.parse(body);
        } catch {
          parsed = body;
        }
        const answer = {
          status: res.status,
          type: res.headers.get('content-type'),
          shape: JSON.stringify(shape(parsed)),
          body,
        };
        if (!reference) {
          reference = answer;
          if (res.status >= 300)
            differences.push(`${scenario.name} on ${config.key}: status ${res.status}: ${clip(body)}`);
          continue;
        }
        if (answer.status !== reference.status) {
          differences.push(`${scenario.name} on ${config.key}: status ${answer.status} vs ${reference.status}`);
        }
        if (answer.type !== reference.type)
          differences.push(`${scenario.name} on ${config.key}: content-type ${answer.type}`);
        if (answer.shape !== reference.shape) {
          differences.push(`${scenario.name} on ${config.key}: body shape\n  ${answer.shape}\n  ${reference.shape}`);
        }
        if (!scenario.method && answer.body !== reference.body) {
          differences.push(
            `${scenario.name} on ${config.key}: body\n  ${clip(answer.body)}\n  ${clip(reference.body)}`,
          );
        }
      }
      if (config.nginx && !scenario.method) {
        const expected = config.instances.map((i) => `127.0.0.1:${i.port}`).sort();
        if (JSON.stringify([...upstreams].sort()) !== JSON.stringify(expected)) {
          differences.push(
            `${scenario.name} on ${config.key}: reached ${[...upstreams].join(', ')}, not ${expected.join(', ')}`,
          );
        }
      }
    }
  }
  if (differences.length > 0) throw new Error(`The configurations do not answer alike:\n${differences.join('\n')}`);
  console.log(`parity: ${configs.length} configurations answer ${scenarios.length} scenarios alike`);
}

// --- The run --------------------------------------------------------------------------------

interface Results {
  date: string;
  machine: string;
  node: string;
  versions: { postgres: string; pgbouncer: string; nginx: string };
  cores: number;
  settings: {
    duration: number;
    rounds: number;
    warmUp: number;
    connections: number;
    pool: number;
    bouncerPool: number;
  };
  load: { start: string; measuring: string; end: string };
  postgresCpuCounted: boolean;
  scenarios: { key: string; name: string }[];
  configs: { key: string; path: Path; instances: number; nginx: boolean }[];
  /** CPU of each idle instance (no requests), ms per second: the job queue's polls, timers. */
  idleCpuMsPerSecond: Record<string, number>;
  cells: Cell[];
  minutes: number;
}

const loadAverage = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

function versionOf(command: string, flag: string): string {
  const run = spawnSync(command, [flag], { encoding: 'utf8' });
  return `${run.stdout ?? ''}${run.stderr ?? ''}`.split('\n')[0].trim();
}

async function main(): Promise<void> {
  if (args.render) {
    writeSection((await renderSection(JSON.parse(readFileSync(args.render, 'utf8')) as Results)).trim());
    console.log(`Wrote the scale-out section of BENCHMARKS.md from ${args.render}`);
    return;
  }
  const began = Date.now();
  const loadAtStart = loadAverage();
  console.log(`load average at start: ${loadAtStart}`);
  const { databaseUrl, release } = await benchDatabase('scale');
  const instances: Instance[] = [];
  const nginxes: Nginx[] = [];
  let bouncer: PgBouncer | undefined;
  const killAll = () => instances.forEach((i) => i.child.kill('SIGKILL'));
  process.once('exit', killAll);
  try {
    // PostgreSQL's postmaster, for its CPU (when it runs here), and its version.
    const pids: Pids = { pgPort: Number(new URL(databaseUrl).port || 5432) };
    let postgresVersion = '';
    {
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      const [row] = (await client.query<{ pid: number; version: string }>('SELECT pg_backend_pid() AS pid, version()'))
        .rows;
      postgresVersion = row.version.split(' on ')[0];
      const backend = procStat(row.pid);
      if (backend && procStat(backend.ppid)?.comm.startsWith('postgres')) pids.postmaster = backend.ppid;
      await client.end();
    }

    // --- Three instances direct; the first migrates and takes the seed
    const directEnv = { DATABASE_URL: databaseUrl };
    instances.push(await startInstance('direct-1', directEnv));
    await waitReady(instances[0]);
    const { token, projectId, taskId } = await seedBenchData(instances[0].url, databaseUrl);
    for (let i = 2; i <= MAX_INSTANCES; i++) instances.push(await startInstance(`direct-${i}`, directEnv));

    // --- PgBouncer, and three instances through it
    const before = new Set(ownChildren('pgbouncer'));
    bouncer = await startPgBouncer(databaseUrl, { poolSize: BOUNCER_POOL });
    const bouncerPid = ownChildren('pgbouncer').find((pid) => !before.has(pid));
    if (bouncerPid) pids.bouncer = { pid: bouncerPid, port: bouncer.port };
    else console.warn('PgBouncer process not found: its CPU is not counted');
    const pooledEnv = {
      DATABASE_URL: bouncer.url(databaseUrl),
      DATABASE_POOLER: 'transaction',
      DATABASE_DIRECT_URL: databaseUrl,
    };
    for (let i = 1; i <= MAX_INSTANCES; i++) instances.push(await startInstance(`pgbouncer-${i}`, pooledEnv));
    await Promise.all(instances.map((i) => waitReady(i)));
    const direct = instances.filter((i) => i.name.startsWith('direct'));
    const pooled = instances.filter((i) => i.name.startsWith('pgbouncer'));

    // --- nginx in front of 1, 2 and 3 of each
    const configs: Configuration[] = [
      { key: 'direct', path: 'direct', instances: [direct[0]], url: direct[0].url },
      { key: 'pgbouncer', path: 'pgbouncer', instances: [pooled[0]], url: pooled[0].url },
    ];
    for (let n = 1; n <= MAX_INSTANCES; n++) {
      for (const [path, group] of [
        ['direct', direct],
        ['pgbouncer', pooled],
      ] as const) {
        const known = new Set(ownChildren('nginx'));
        const server = await startNginx(group.slice(0, n).map((i) => i.port));
        nginxes.push(server);
        const pid = ownChildren('nginx').find((p) => !known.has(p));
        if (!pid) throw new Error('the nginx master process was not found');
        configs.push({
          key: `nginx-${n}-${path}`,
          path,
          instances: group.slice(0, n),
          nginx: { server, pid },
          url: server.url,
        });
      }
    }

    const scenarios: Scenario[] = [
      { key: 'byId', name: 'GET /api/v1/tasks/{id}', path: `/api/v1/tasks/${taskId}` },
      {
        key: 'list',
        name: 'GET a filtered list of 50 tasks',
        path: `/api/v1/projects/${projectId}/tasks?status=todo,in_progress&limit=50`,
      },
      {
        key: 'post',
        name: 'POST a task',
        path: `/api/v1/projects/${projectId}/tasks`,
        method: 'POST',
        body: JSON.stringify({ title: 'Benchmark task', priority: 'high', labels: ['bench'] }),
      },
    ];
    await checkParity(configs, scenarios, token);

    // What the instances cost when nobody calls them (background work counted in every run).
    const idleSeconds = SMOKE ? 1 : 5;
    await sleep(1000);
    const idleBefore = allProcesses();
    await sleep(idleSeconds * 1000);
    const idleAfter = allProcesses();
    const idleCpuMsPerSecond = Object.fromEntries(
      instances.map((i) => [
        i.name,
        (treeCpuMs(idleAfter, i.child.pid!) - treeCpuMs(idleBefore, i.child.pid!)) / idleSeconds,
      ]),
    );
    console.log(`idle CPU per instance (ms/s): ${JSON.stringify(idleCpuMsPerSecond)}`);

    const loadWhenMeasuring = loadAverage();
    console.log(`load average when measuring began: ${loadWhenMeasuring}`);
    const cells: Cell[] = [];
    for (const scenario of scenarios) {
      const rounds = new Map<string, Sample[]>(configs.map((c) => [c.key, []]));
      if (WARM_UP) for (const config of configs) await measure(config, scenario, token, pids, WARM_UP);
      for (let round = 0; round < ROUNDS; round++) {
        for (const config of round % 2 === 0 ? configs : [...configs].reverse()) {
          const sample = await measure(config, scenario, token, pids, DURATION);
          rounds.get(config.key)!.push(sample);
          console.log(
            `${scenario.key.padEnd(5)} round ${round + 1} ${config.key.padEnd(19)} ${sample.rps.toFixed(0).padStart(6)} req/s  p50 ${sample.p50} p99 ${sample.p99} ms  app ${sample.app.toFixed(0)} µs/req  errors ${sample.errors}`,
          );
        }
      }
      for (const config of configs) {
        const samples = rounds.get(config.key)!;
        cells.push({ scenario: scenario.key, config: config.key, rounds: samples, median: medianSample(samples) });
      }
    }

    const results: Results = {
      date: new Date().toISOString(),
      machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      cores: cpus().length,
      versions: {
        postgres: postgresVersion,
        pgbouncer: versionOf('pgbouncer', '--version'),
        nginx: versionOf('nginx', '-v').replace('nginx version: ', ''),
      },
      settings: {
        duration: DURATION,
        rounds: ROUNDS,
        warmUp: WARM_UP,
        connections: CONNECTIONS,
        pool: POOL,
        bouncerPool: BOUNCER_POOL,
      },
      load: { start: loadAtStart, measuring: loadWhenMeasuring, end: loadAverage() },
      postgresCpuCounted: pids.postmaster !== undefined,
      scenarios: scenarios.map(({ key, name }) => ({ key, name })),
      configs: configs.map((c) => ({ key: c.key, path: c.path, instances: c.instances.length, nginx: !!c.nginx })),
      idleCpuMsPerSecond,
      cells,
      minutes: (Date.now() - began) / 60_000,
    };
    console.log(`load average at the end: ${results.load.end}`);
    const section = await renderSection(results);
    console.log(section);
    const errors = cells.reduce((s, c) => s + c.median.errors, 0);
    if (!SMOKE) {
      writeFileSync(args.results!, JSON.stringify(results, null, 2));
      writeSection(section.trim());
      console.log(`Wrote the scale-out section of BENCHMARKS.md; raw results in ${args.results}`);
    }
    if (errors > 0) {
      console.error(`${errors} requests failed (non-2xx or errors)`);
      process.exitCode = 1;
    }
  } finally {
    await Promise.all(instances.map(stopInstance));
    for (const server of nginxes) await server.stop();
    await bouncer?.stop();
    await release();
    process.off('exit', killAll);
  }
}

// --- The section of BENCHMARKS.md -----------------------------------------------------------

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function writeSection(section: string): void {
  writeBenchmarksSection('scale-out', section);
}

/** Other work on the machine beyond this, in cores (whole machine busy − measured processes), marks a run as disturbed. */
const DISTURBED_CORES = 0.25;

async function renderSection(r: Results): Promise<string> {
  const found = (scenario: string, config: string): Cell =>
    r.cells.find((c) => c.scenario === scenario && c.config === config)!;
  const cell = (scenario: string, config: string): Sample => found(scenario, config).median;
  const gap = (s: Sample) => s.coresMachine - s.coresMeasured;
  const disturbed = (scenario: string, config: string) => gap(cell(scenario, config)) > DISTURBED_CORES;
  const us = (n: number | undefined) => (n === undefined ? '—' : `${fmt(n)} µs`);
  const connections = (s: Sample) =>
    s.pgDirect === undefined
      ? '—'
      : s.pgViaBouncer === undefined
        ? `${s.pgDirect}`
        : `${s.pgViaBouncer} + ${s.pgDirect}`;
  const cores = (s: Sample) => `${fmt(s.coresMeasured, 2)} / ${fmt(s.coresMachine, 2)}`;
  const pathName = (path: Path) => (path === 'direct' ? 'direct' : 'PgBouncer');
  const paths = ['direct', 'pgbouncer'] as const;
  const rps = (scenario: string, config: string) =>
    `${fmt(cell(scenario, config).rps)}${disturbed(scenario, config) ? ' †' : ''}`;
  const ratio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || b === 0 ? undefined : a / b;
  const rpsRatio = (scenario: string, a: string, b: string) =>
    `${fmt(cell(scenario, a).rps / cell(scenario, b).rps, 2)}${disturbed(scenario, a) || disturbed(scenario, b) ? ' †' : ''}`;
  const range = (values: (number | undefined)[], digits = 0) => {
    const known = values.filter((v): v is number => v !== undefined && Number.isFinite(v));
    if (!known.length) return '—';
    const [lo, hi] = [Math.min(...known), Math.max(...known)];
    return fmt(lo, digits) === fmt(hi, digits) ? fmt(lo, digits) : `${fmt(lo, digits)}–${fmt(hi, digits)}`;
  };
  const sign = (n: number | undefined) => (n === undefined ? '—' : `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n))} µs`);
  const name = (key: string) => r.scenarios.find((sc) => sc.key === key)!.name;
  const s = r.settings;

  const hopRows = r.scenarios.flatMap((sc) =>
    paths.map((key) => {
      const m = cell(sc.key, key);
      return `| ${sc.name} | ${pathName(key)} | ${rps(sc.key, key)} | ${fmt(m.p50, 1)} / ${fmt(m.p99, 1)} | ${us(m.app)} | ${us(m.pgbouncer)} | ${us(m.postgres)} | ${us(m.loadGenerator)} | ${connections(m)} | ${cores(m)} | ${key === 'direct' ? '1.00' : `**${rpsRatio(sc.key, 'pgbouncer', 'direct')}**`} |`;
    }),
  );

  const scaleRows = r.scenarios.flatMap((sc) =>
    paths.flatMap((path) =>
      [1, 2, 3].map((n) => {
        const key = `nginx-${n}-${path}`;
        const m = cell(sc.key, key);
        return `| ${sc.name} | ${n} | ${pathName(path)} | ${rps(sc.key, key)} | ${fmt(m.p50, 1)} / ${fmt(m.p99, 1)} | ${us(m.app)} | ${us(m.nginx)} | ${us(m.pgbouncer)} | ${us(m.postgres)} | ${us(m.loadGenerator)} | ${connections(m)} | ${cores(m)} | ${n === 1 ? '1.00' : `**${rpsRatio(sc.key, key, `nginx-1-${path}`)}**`} |`;
      }),
    ),
  );

  const summaryRows = r.scenarios.map((sc) => {
    const d = cell(sc.key, 'direct');
    const p = cell(sc.key, 'pgbouncer');
    const pgDelta = d.postgres === undefined || p.postgres === undefined ? undefined : p.postgres - d.postgres;
    return `| ${sc.name} | ${rpsRatio(sc.key, 'nginx-1-direct', 'direct')} / ${rpsRatio(sc.key, 'nginx-1-pgbouncer', 'pgbouncer')} | ${us(cell(sc.key, 'nginx-1-direct').nginx)} | ${rpsRatio(sc.key, 'pgbouncer', 'direct')} / ${rpsRatio(sc.key, 'nginx-1-pgbouncer', 'nginx-1-direct')} | ${us(p.pgbouncer)} | ${sign(p.app - d.app)} | ${sign(pgDelta)} | ${rpsRatio(sc.key, 'nginx-3-direct', 'nginx-1-direct')} / ${rpsRatio(sc.key, 'nginx-3-pgbouncer', 'nginx-1-pgbouncer')} |`;
  });

  // The disturbed cells, with their rounds, below the tables.
  const disturbedCells = r.cells.filter((c) => gap(c.median) > DISTURBED_CORES);
  const allRuns = r.cells.flatMap((c) => c.rounds);
  const disturbedRuns = allRuns.filter((m) => gap(m) > DISTURBED_CORES).length;
  const configName = (key: string) => {
    const config = r.configs.find((c) => c.key === key)!;
    return config.nginx
      ? `${config.instances} instance${config.instances > 1 ? 's' : ''} behind nginx, ${pathName(config.path)}`
      : `1 instance, ${pathName(config.path)}, no nginx`;
  };
  const footnotes = disturbedCells.map(
    (c) =>
      `- † ${name(c.scenario)}, ${configName(c.config)}: rounds ${c.rounds
        .map((m) => `${fmt(m.rps)} req/s (other work ${fmt(gap(m), 2)} cores)`)
        .join(', ')}.`,
  );

  // Numbers for the note.
  const scenarioKeys = r.scenarios.map((sc) => sc.key);
  const across = (f: (scenario: string, path: Path) => number | undefined, keys = scenarioKeys) =>
    keys.flatMap((sc) => paths.map((path) => f(sc, path)));
  const gets = scenarioKeys.filter((k) => k !== 'post');
  const instanceCores = (scenario: string, config: string) =>
    (cell(scenario, config).app * cell(scenario, config).rps) / 1e6;
  const fullness = (n: number, keys = gets) => across((sc, path) => cell(sc, `nginx-${n}-${path}`).coresMeasured, keys);
  const nOverOne = (n: number, keys = scenarioKeys) =>
    across((sc, path) => cell(sc, `nginx-${n}-${path}`).rps / cell(sc, `nginx-1-${path}`).rps, keys);
  const appThreeOverOne = across((sc, path) => ratio(cell(sc, `nginx-3-${path}`).app, cell(sc, `nginx-1-${path}`).app));
  const pgThreeOverOne = across((sc, path) =>
    ratio(cell(sc, `nginx-3-${path}`).postgres, cell(sc, `nginx-1-${path}`).postgres),
  );
  const idle = median(Object.values(r.idleCpuMsPerSecond));
  const background = (n: number, config: string) => (n * idle * 1000) / cell('byId', config).rps;
  const errors = r.cells.reduce((sum, c) => sum + c.median.errors, 0);
  const byId = (config: string) => cell('byId', config);
  const list = (config: string) => cell('list', config);
  const pgCpu = byId('nginx-1-direct').postgres;
  const pgCpuPooled = byId('nginx-1-pgbouncer').postgres;
  const appCpu = byId('nginx-1-direct').app;
  const appCpuPooled = byId('nginx-1-pgbouncer').app;
  const totalCpu = (m: Sample) => m.app + (m.nginx ?? 0) + (m.pgbouncer ?? 0) + (m.postgres ?? 0) + m.loadGenerator;
  const fullAt = [...fullness(2), ...fullness(3)];
  const machineFull = Math.min(...fullAt.filter((v): v is number => v !== undefined)) >= 0.85 * r.cores;
  const behindCostsMore =
    pgCpu !== undefined &&
    pgCpuPooled !== undefined &&
    pgCpuPooled - pgCpu > (byId('nginx-1-pgbouncer').pgbouncer ?? 0);
  const postFull = across((sc, path) => cell(sc, `nginx-1-${path}`).coresMeasured, ['post']);

  const section = `## Scale-out: nginx, PgBouncer and 1–3 instances (issue #12)

Written by \`npm run bench:scale\` ([bench/scale-out.ts](bench/scale-out.ts)) on ${r.date.slice(0, 10)}. One
database seeded as for \`npm run bench\` (a project of 1,001 tasks). Six instances of the compiled
server (\`NODE_ENV=production\`, \`DB_POOL_MAX=${s.pool}\`, logs to /dev/null) run at once: three
straight on PostgreSQL and three through PgBouncer in transaction mode (\`DATABASE_POOLER=transaction\`,
\`DATABASE_DIRECT_URL\` for LISTEN and the migrations; \`default_pool_size = ${s.bouncerPool}\`: that many
server connections for all the pooled instances together). nginx (round robin, keep-alive to the
instances, an access-log line per request) runs in front of the first 1, 2 and 3 of each. No Redis
(rate limits set out of reach, so nothing is shared but the database). Eight configurations, measured
in turn in every round (forward, then backward, so that drift hits all alike),
${s.warmUp ? `after a ${s.warmUp} s warm-up of each` : 'without warm-up'}, once every configuration is seen to answer the three
requests alike (status, content type and body shape; the GETs byte for byte; behind nginx, GETs
reaching every instance). autocannon, ${s.connections} connections, ${s.rounds} rounds of ${s.duration} s per cell;
every figure is the median of the rounds.

CPU per request is the CPU time (utime + stime from \`/proc/<pid>/stat\`, exited children
included) of each set of processes over a run ÷ the requests answered: "app" is all the
configuration's instances together; "load gen." is autocannon, in the benchmark's own
process${r.postgresCpuCounted ? '; PostgreSQL is the postmaster and all its processes (backends, autovacuum, WAL writer…)' : '; PostgreSQL ran on another machine, so its CPU is not counted'}. "PG conns" are the TCP
connections to PostgreSQL that the configuration's processes held mid-run (through PgBouncer:
PgBouncer's + the instances' own direct ones). "Cores busy" is the CPU of the measured processes ÷
wall time, then the whole machine's (\`/proc/stat\`, other work included); where the machine was
busier than the measured processes by more than ${DISTURBED_CORES} cores in the median, other work was
running (other engineers' test suites share this machine): those req/s are marked †, and their
rounds are listed below the tables.

- Machine: ${r.machine}; Node ${r.node}; ${r.versions.postgres}; ${r.versions.pgbouncer}; ${r.versions.nginx}
- Load average (1 / 5 / 15 min): ${r.load.start} at start, ${r.load.measuring} when measuring began, ${r.load.end} at the end (${fmt(r.minutes, 1)} minutes in all, the benchmark's own processes included)
- Command: \`npm run bench:scale\` (options: \`-- --duration ${s.duration} --rounds ${s.rounds} --connections ${s.connections} --bouncer-pool ${s.bouncerPool}\`; \`-- --smoke\` runs each cell for 1 s and writes nothing)
- Failed requests (non-2xx or errors): ${errors}; runs with other work above ${DISTURBED_CORES} cores: ${disturbedRuns} of ${allRuns.length}

### PgBouncer vs direct: one instance, no nginx

| scenario | database | req/s | p50 / p99 ms | app CPU / req | PgBouncer CPU / req | PostgreSQL CPU / req | load gen. CPU / req | PG conns | cores busy (measured / machine) | req/s ÷ direct |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${hopRows.join('\n')}

### 1, 2 and 3 instances behind nginx

| scenario | instances | database | req/s | p50 / p99 ms | app CPU / req (all instances) | nginx CPU / req | PgBouncer CPU / req | PostgreSQL CPU / req | load gen. CPU / req | PG conns | cores busy (measured / machine) | req/s ÷ 1 instance |
| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${scaleRows.join('\n')}

### What each hop costs

| scenario | nginx in front of 1 instance: req/s ÷ without (direct / PgBouncer) | nginx CPU / req | PgBouncer: req/s ÷ direct (no nginx / behind nginx) | PgBouncer CPU / req | app CPU / req, PgBouncer − direct | PostgreSQL CPU / req, PgBouncer − direct | 3 instances ÷ 1 (direct / PgBouncer) |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${summaryRows.join('\n')}

${footnotes.length ? `${footnotes.join('\n')}\n` : ''}
### What a 2-core machine can and cannot show

Everything above runs on the same ${r.cores === 2 ? 'two' : String(r.cores)} cores: the load generator, nginx, up to three
instances, PgBouncer and PostgreSQL. One instance is held to its one event loop: behind nginx its
CPU × req/s came to ${fmt(instanceCores('byId', 'nginx-1-direct'), 2)} cores for GET by id and ${fmt(instanceCores('list', 'nginx-1-direct'), 2)} for the list (direct), with the measured
processes at ${range(fullness(1), 2)} cores. A second instance can take up what is left (2 instances ÷ 1:
${range(nOverOne(2, gets), 2)} for the GETs), and with 2 or 3 instances the measured processes use
${range(fullAt, 2)} of the ${r.cores} cores for the GETs${machineFull ? ': the machine is full, and a third instance has no core to run on' : ''}. So **more instances cannot add throughput here** (3 instances ÷ 1: ${range(nOverOne(3), 2)} across
the scenarios and both database paths); what they gain or lose is scheduling, not scale. POST a
task leaves cores idle (measured processes at ${range(postFull, 2)} cores with one instance): creations in one
project queue on the project's row (the number is taken under its lock), whatever the number of
instances. What the tables can show:

- **The cost of each hop.** nginx costs ${range(scenarioKeys.map((k) => cell(k, 'nginx-1-direct').nginx))} µs of CPU per request (its worker parses,
  proxies over keep-alive and writes an access-log line). PgBouncer costs ${range(paths.map((p) => cell('byId', p === 'direct' ? 'pgbouncer' : 'nginx-1-pgbouncer').pgbouncer))} µs per GET by id
  for itself, ${range(['list', 'post'].flatMap((k) => [cell(k, 'pgbouncer').pgbouncer, cell(k, 'nginx-1-pgbouncer').pgbouncer]))} µs for the list and POST${behindCostsMore ? '; for GET by id the larger cost is behind it' : ''}: behind the pooler the app names no
  statement, so the hottest lookups run as PL/pgSQL functions whose plans each server connection keeps
  (docs/scaling-out.md), and every other statement is parsed and planned again. Behind nginx, a GET by id cost
  PostgreSQL ${us(pgCpuPooled)} through PgBouncer against ${us(pgCpu)} direct, and the app ${us(appCpuPooled)} against ${us(appCpu)}; a list
  ${us(list('nginx-1-pgbouncer').postgres)} against ${us(list('nginx-1-direct').postgres)} in PostgreSQL. All the measured processes together spent
  ${us(totalCpu(byId('nginx-1-pgbouncer')))} per GET by id through PgBouncer against ${us(totalCpu(byId('nginx-1-direct')))} direct: ${fmt(totalCpu(byId('nginx-1-pgbouncer')) / totalCpu(byId('nginx-1-direct')), 2)}× the CPU, for
  ${rpsRatio('byId', 'nginx-1-pgbouncer', 'nginx-1-direct')}× the req/s (PgBouncer ÷ direct, behind nginx). For POST a task (six statements, seven
  through PgBouncer, where each transaction sets its timeouts; queued on one row) PgBouncer ÷ direct was ${rpsRatio('post', 'nginx-1-pgbouncer', 'nginx-1-direct')}× behind nginx and ${rpsRatio('post', 'pgbouncer', 'direct')}× without.
- **Whether N instances pay for coordination.** They share nothing but the database (no Redis
  here; in production the rate-limit counters add a Redis round trip per request). With 3 instances
  the app's CPU per request, summed over the instances, was ${range(appThreeOverOne, 2)}× that of one behind the same
  nginx, and PostgreSQL's ${range(pgThreeOverOne, 2)}×. We found no work the instances do for each other: they
  exchange nothing, and their background work (an idle instance used ${fmt(idle, 1)} ms of CPU per second:
  job-queue polls, timers) is about ${fmt(background(3, 'nginx-3-direct'))} µs per GET by id with 3 instances against
  ${fmt(background(1, 'nginx-1-direct'))} µs with 1. Our reading, not checked with a profile: three event loops taking turns on two
  cores each serve a third of the requests, so each wake-up (epoll, timers, garbage collection) is
  shared by fewer requests, and they evict each other from the caches — CPU per request that a core
  per instance would not cost.

What it predicts for a bigger machine: with a core or more per instance (and nginx and the load
generator elsewhere), instances add throughput until the primary is the limit — its CPU or its
connection count. ${
    pgCpu === undefined || pgCpuPooled === undefined
      ? ''
      : `Per GET by id, PostgreSQL spent ${us(pgCpu)} for the instance's ${us(appCpu)} direct, so one PostgreSQL core
keeps up with about ${fmt(appCpu / pgCpu, 1)} instance cores; through PgBouncer ${us(pgCpuPooled)} for ${us(appCpuPooled)}, about
${fmt(appCpuPooled / pgCpuPooled, 1)} (what the pooled path still parses and plans). `
  }Straight on PostgreSQL every instance holds up to \`DB_POOL_MAX\` connections plus the job queue's
and its LISTEN connection (${connections(cell('byId', 'nginx-3-direct'))} for 3 instances mid-run here), so \`max_connections\` caps the
number of instances. Through PgBouncer the N × \`DB_POOL_MAX\` client connections share the
bouncer's pool (${s.bouncerPool} server connections here: ${connections(cell('byId', 'nginx-3-pgbouncer'))} for 3 instances, the second figure the
instances' own direct ones), so instances can be added without adding server connections — at the
price of the planning above. PgBouncer 1.21 and later can carry protocol-level named prepared
statements in transaction mode (\`max_prepared_statements\`), which could remove the rest of that
price (not measured here: this machine has Debian's 1.18, and the app names no statement behind a
transaction pooler). Reads can move to replicas as well (\`DATABASE_REPLICA_URLS\`, not measured
here); writes stay on the primary. The CPU figures come from a machine where everything competes
for two cores (more context switches, colder caches), so they are upper bounds for a machine with
room to spare.`;
  return format(section, { ...(await resolveConfig(join(ROOT, 'BENCHMARKS.md'))), parser: 'markdown' });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
