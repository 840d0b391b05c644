/**
 * `npm run bench:soak`: Tasklane's memory over a long mixed run (issue #16). Starts the compiled
 * server in production mode on a fresh database seeded as for `npm run bench` (bench/seed.ts),
 * then offers it a fixed rate of mixed requests for the whole run: GETs by id (access token and
 * API key), lists and their next pages, creations (some with a fresh Idempotency-Key, some
 * replayed), PATCHes with If-Match, comments, `/auth/me`, 404s on random paths and unknown ids,
 * and now and then a sign-in whose session is refreshed and ended (a revocation), its access
 * token then refused. Every request comes from a random client address (X-Forwarded-For, with
 * TRUST_PROXY=loopback), so that the rate limiter holds a counter per address. The production
 * rate limits apply.
 *
 * Every `--interval` seconds it samples the server: RSS (/proc/<pid>/status), the V8 heap (used,
 * total) and external memory and the event loop's delay from its own /metrics (prom-client's
 * default metrics), the number of `http_requests_total` series, its CPU, the requests so far and
 * how they ended. A request ends as expected (its documented status: a 404 for a random path is
 * expected, counted apart) or as a failure (any other status, or no answer): a soak with failures
 * has failed, and the script exits 1.
 *
 * Writes its section of BENCHMARKS.md (between `<!-- soak:start -->` and `<!-- soak:end -->`) and
 * bench/soak.svg. Options: `-- --minutes 10 --interval 30 --rate 150` (requests a second offered
 * in all; `--node-flags=--max-old-space-size=160` starts the server with those). `-- --smoke` runs
 * 20 s, sampling every 5 s, and writes nothing (CI); `-- --dry` runs as asked and writes nothing
 * either.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { format, resolveConfig } from 'prettier';
import { writeBenchmarksSection } from './benchmarks-section';
import { cpuMs, freePort, procStatusKb, productionEnv, ROOT, sleep, start, waitFor } from './harness';
import { benchDatabase, seedBenchData } from './seed';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    /** Measure as usual, write nothing (to try a setting without replacing the recorded run). */
    dry: { type: 'boolean', default: false },
    /** Node options for the server, e.g. `--max-old-space-size=160` (space-separated). */
    'node-flags': { type: 'string', default: '' },
    minutes: { type: 'string', default: '10' },
    interval: { type: 'string', default: '30' },
    rate: { type: 'string', default: '150' },
  },
});
const SMOKE = args.smoke!;
const DURATION_S = SMOKE ? 20 : Math.round(Number(args.minutes) * 60);
const INTERVAL_S = SMOKE ? 5 : Number(args.interval);
const RATE = SMOKE ? 100 : Number(args.rate);
if (!(DURATION_S > 0 && INTERVAL_S > 0 && RATE > 0))
  throw new Error('--minutes, --interval and --rate must be positive');
/** Requests allowed in flight at once: past it, an operation due is not started (counted as not sent). */
const MAX_IN_FLIGHT = 64;
/** One sign-in (and its refresh, logout…) this often. */
const SIGN_IN_EVERY_MS = 2_000;
/** The sample whose growth to the last one is judged: the first at or after 2 minutes (the warm-up). */
const SETTLED_S = 120;
const TARGET_RSS_MIB = 300;
const TARGET_GROWTH = 0.1;
const METRICS_TOKEN = randomBytes(24).toString('base64url');
const SECRET = randomBytes(36).toString('base64url');

// --- The load -----------------------------------------------------------------------------------

interface Tally {
  requests: number;
  /** Answered with a success status. */
  ok: number;
  /** Answered with the 4xx the request expects (a random path's 404, a revoked token's 401). */
  expected4xx: number;
  /** Any other answer, or none. */
  failed: number;
}

const tally = (): Tally => ({ requests: 0, ok: 0, expected4xx: 0, failed: 0 });

class Load {
  readonly total = tally();
  readonly byOperation = new Map<string, Tally>();
  readonly failures = new Map<string, { count: number; example: string }>();
  /** Operations due but not started because MAX_IN_FLIGHT requests were waiting. */
  notSent = 0;
  inFlight = 0;
  /** Latencies of the current interval, ms. */
  latencies: number[] = [];

  constructor(private readonly base: string) {}

  /** One request, counted under `operation`; the response when its status is one of `expect`, else undefined. */
  async send(
    operation: string,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown },
    expect: number[],
  ): Promise<Response | undefined> {
    const counts = this.byOperation.get(operation) ?? tally();
    this.byOperation.set(operation, counts);
    counts.requests++;
    this.total.requests++;
    const started = performance.now();
    this.inFlight++;
    try {
      const res = await fetch(`${this.base}${path}`, {
        method: init.method ?? 'GET',
        headers: {
          'x-forwarded-for': randomAddress(),
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...init.headers,
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
      });
      const body = await res.arrayBuffer();
      this.latencies.push(performance.now() - started);
      if (!expect.includes(res.status)) {
        this.fail(operation, `${res.status}`, Buffer.from(body).toString('utf8').slice(0, 300));
        return undefined;
      }
      if (res.status >= 400) {
        counts.expected4xx++;
        this.total.expected4xx++;
      } else {
        counts.ok++;
        this.total.ok++;
      }
      return Object.assign(res, { parsed: body.byteLength ? safeJson(body) : undefined });
    } catch (error) {
      this.fail(operation, 'no answer', (error as Error).message);
      return undefined;
    } finally {
      this.inFlight--;
    }
  }

  fail(operation: string, what: string, example: string): void {
    this.byOperation.get(operation)!.failed++;
    this.total.failed++;
    const key = `${operation}: ${what}`;
    const known = this.failures.get(key);
    if (known) known.count++;
    else {
      this.failures.set(key, { count: 1, example });
      console.error(`failure: ${key}: ${example}`);
    }
  }
}

type Parsed = Response & { parsed?: { data?: Record<string, unknown>; meta?: { page?: { nextCursor?: string } } } };

function safeJson(body: ArrayBuffer): Parsed['parsed'] {
  try {
    return JSON.parse(Buffer.from(body).toString('utf8')) as Parsed['parsed'];
  } catch {
    return undefined;
  }
}

/** A client address out of 10.0.0.0/8: each request from one the rate limiter has probably not seen. */
function randomAddress(): string {
  const [a, b, c] = randomBytes(3);
  return `10.${a}.${b}.${c}`;
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)];

interface World {
  load: Load;
  auth: { authorization: string };
  apiKey: { authorization: string };
  projectId: string;
  email: string;
  password: string;
  /** Seeded tasks (read), and tasks this run created (updated and commented), the latest 2,000. */
  seeded: string[];
  created: string[];
  /** Tasks being updated: never two PATCHes on one task at once (the second would be a real 412). */
  updating: Set<string>;
  /** Next-page cursors of lists read, with the filters they belong to. */
  cursors: { filters: string; cursor: string }[];
  /** Idempotency keys used, with their body, to replay a few. */
  idempotent: { key: string; title: string }[];
}

interface Operation {
  name: string;
  /** Share of the operations started. */
  weight: number;
  /** Requests it sends. */
  requests: number;
  run(w: World): Promise<unknown>;
}

const LIST_FILTERS = [
  'status=todo,in_progress',
  'priority=high,urgent',
  'sort=-createdAt',
  'status=done&sort=priority',
];

const OPERATIONS: Operation[] = [
  {
    name: 'GET a task (access token)',
    weight: 25,
    requests: 1,
    run: (w) => w.load.send('GET a task (access token)', `/api/v1/tasks/${pick(w.seeded)}`, { headers: w.auth }, [200]),
  },
  {
    name: 'GET a task (API key)',
    weight: 10,
    requests: 1,
    run: (w) => w.load.send('GET a task (API key)', `/api/v1/tasks/${pick(w.seeded)}`, { headers: w.apiKey }, [200]),
  },
  {
    name: 'GET a list of 50',
    weight: 8,
    requests: 1,
    run: async (w) => {
      const filters = pick(LIST_FILTERS);
      const res = (await w.load.send(
        'GET a list of 50',
        `/api/v1/projects/${w.projectId}/tasks?${filters}&limit=50`,
        { headers: w.auth },
        [200],
      )) as Parsed | undefined;
      const cursor = res?.parsed?.meta?.page?.nextCursor;
      if (cursor && w.cursors.length < 200) w.cursors.push({ filters, cursor });
    },
  },
  {
    name: 'GET its next page (cursor)',
    weight: 6,
    requests: 1,
    run: async (w) => {
      const page = w.cursors.shift();
      if (!page) return;
      const res = (await w.load.send(
        'GET its next page (cursor)',
        `/api/v1/projects/${w.projectId}/tasks?${page.filters}&limit=50&cursor=${encodeURIComponent(page.cursor)}`,
        { headers: w.auth },
        [200],
      )) as Parsed | undefined;
      // Walk on through the list, a page per turn.
      const cursor = res?.parsed?.meta?.page?.nextCursor;
      if (cursor && w.cursors.length < 200) w.cursors.push({ filters: page.filters, cursor });
    },
  },
  {
    name: 'POST a task',
    weight: 6,
    requests: 1,
    run: async (w) => {
      const res = (await w.load.send(
        'POST a task',
        `/api/v1/projects/${w.projectId}/tasks`,
        {
          method: 'POST',
          headers: w.auth,
          body: { title: `Soak ${randomUUID()}`, priority: 'medium', labels: ['soak'] },
        },
        [201],
      )) as Parsed | undefined;
      const id = res?.parsed?.data?.id;
      if (typeof id === 'string') {
        w.created.push(id);
        if (w.created.length > 2_000) w.created.shift();
      }
    },
  },
  {
    name: 'POST a task with a new Idempotency-Key',
    weight: 4,
    requests: 1,
    run: async (w) => {
      const key = randomUUID();
      const title = `Idempotent ${key}`;
      await w.load.send(
        'POST a task with a new Idempotency-Key',
        `/api/v1/projects/${w.projectId}/tasks`,
        { method: 'POST', headers: { ...w.auth, 'idempotency-key': key }, body: { title } },
        [201],
      );
      w.idempotent.push({ key, title });
      if (w.idempotent.length > 100) w.idempotent.shift();
    },
  },
  {
    name: 'POST it again (replayed)',
    weight: 1,
    requests: 1,
    run: async (w) => {
      const used = w.idempotent.shift();
      if (!used) return;
      const res = await w.load.send(
        'POST it again (replayed)',
        `/api/v1/projects/${w.projectId}/tasks`,
        { method: 'POST', headers: { ...w.auth, 'idempotency-key': used.key }, body: { title: used.title } },
        [201],
      );
      if (res && res.headers.get('idempotent-replayed') !== 'true') {
        w.load.fail('POST it again (replayed)', 'not replayed', 'no Idempotent-Replayed: true');
      }
    },
  },
  {
    name: 'GET + PATCH with If-Match',
    weight: 10,
    requests: 2,
    run: async (w) => {
      const id = w.created.find((candidate) => !w.updating.has(candidate));
      if (!id) return;
      w.updating.add(id);
      try {
        const res = await w.load.send('GET + PATCH with If-Match', `/api/v1/tasks/${id}`, { headers: w.auth }, [200]);
        const etag = res?.headers.get('etag');
        if (!etag) return;
        await w.load.send(
          'GET + PATCH with If-Match',
          `/api/v1/tasks/${id}`,
          {
            method: 'PATCH',
            headers: { ...w.auth, 'if-match': etag },
            body: { priority: pick(['low', 'medium', 'high', 'urgent']), description: `Changed ${Date.now()}` },
          },
          [200],
        );
      } finally {
        w.updating.delete(id);
        // To the back: the next update takes another task.
        const at = w.created.indexOf(id);
        if (at >= 0) w.created.push(...w.created.splice(at, 1));
      }
    },
  },
  {
    name: 'POST a comment',
    weight: 5,
    requests: 1,
    run: (w) =>
      w.load.send(
        'POST a comment',
        `/api/v1/tasks/${pick(w.created.length ? w.created : w.seeded)}/comments`,
        { method: 'POST', headers: w.auth, body: { body: `Soak comment ${randomUUID()}` } },
        [201],
      ),
  },
  {
    name: 'GET /auth/me',
    weight: 5,
    requests: 1,
    run: (w) => w.load.send('GET /auth/me', '/api/v1/auth/me', { headers: w.auth }, [200]),
  },
  {
    name: 'GET a random path (404)',
    weight: 6,
    requests: 1,
    run: (w) =>
      w.load.send(
        'GET a random path (404)',
        pick([
          `/api/v1/${randomBytes(6).toString('hex')}`,
          `/${randomBytes(8).toString('base64url')}/${randomBytes(4).toString('hex')}`,
        ]),
        {},
        [404],
      ),
  },
  {
    name: 'GET an unknown task (404)',
    weight: 3,
    requests: 1,
    run: (w) => w.load.send('GET an unknown task (404)', `/api/v1/tasks/${randomUUID()}`, { headers: w.auth }, [404]),
  },
];

/** A sign-in, its session used, refreshed and ended; its access token must then be refused. */
async function signInCycle(w: World): Promise<void> {
  const name = 'sign in, refresh, sign out';
  const login = (await w.load.send(
    name,
    '/api/v1/auth/login',
    { method: 'POST', body: { email: w.email, password: w.password } },
    [200],
  )) as Parsed | undefined;
  const tokens = login?.parsed?.data as { accessToken: string; refreshToken: string } | undefined;
  if (!tokens) return;
  await w.load.send(name, '/api/v1/auth/me', { headers: { authorization: `Bearer ${tokens.accessToken}` } }, [200]);
  const refreshed = (await w.load.send(
    name,
    '/api/v1/auth/refresh',
    { method: 'POST', body: { refreshToken: tokens.refreshToken } },
    [200],
  )) as Parsed | undefined;
  const next = refreshed?.parsed?.data as { accessToken: string; refreshToken: string } | undefined;
  if (!next) return;
  await w.load.send(name, '/api/v1/auth/logout', { method: 'POST', body: { refreshToken: next.refreshToken } }, [204]);
  // Revoked everywhere once the logout has committed: the registry refuses it.
  await w.load.send(
    'revoked access token (401)',
    '/api/v1/auth/me',
    { headers: { authorization: `Bearer ${next.accessToken}` } },
    [401],
  );
}

/** Offers RATE requests a second until `until`, spread over the operations by weight. */
async function offer(w: World, until: number): Promise<void> {
  const weights = OPERATIONS.reduce((s, o) => s + o.weight, 0);
  // Weights are shares of the operations started; each takes as many requests of the budget as it sends.
  const choose = (): Operation => {
    let r = Math.random() * weights;
    for (const operation of OPERATIONS) if ((r -= operation.weight) < 0) return operation;
    return OPERATIONS[0];
  };
  const running = new Set<Promise<unknown>>();
  const launch = (work: Promise<unknown>) => {
    running.add(work);
    void work.finally(() => running.delete(work));
  };
  let budget = 0;
  let last = performance.now();
  let lastSignIn = 0;
  let next = choose();
  while (Date.now() < until) {
    const now = performance.now();
    budget += ((now - last) / 1000) * RATE;
    last = now;
    if (Date.now() - lastSignIn >= SIGN_IN_EVERY_MS) {
      lastSignIn = Date.now();
      launch(signInCycle(w));
      budget -= 5;
    }
    while (budget >= next.requests) {
      budget -= next.requests;
      if (w.load.inFlight >= MAX_IN_FLIGHT) w.load.notSent += next.requests;
      else launch(next.run(w));
      next = choose();
    }
    await sleep(5);
  }
  await Promise.allSettled([...running]);
}

// --- Sampling -----------------------------------------------------------------------------------

/** One reading a second: RSS from /proc, the rest from /metrics. */
interface Reading {
  t: number;
  rssMiB: number;
  heapUsedMiB?: number;
  heapTotalMiB?: number;
  externalMiB?: number;
  /** Event loop delay since the previous scrape (prom-client resets it at each), ms. */
  loopP99Ms?: number;
  majorGcs?: number;
}

/** An interval's readings, summed up. */
interface Sample {
  /** Seconds since the load began (0: the idle sample, before it). */
  t: number;
  /** The mean and the highest of the interval's readings. */
  rssMiB: number;
  rssMaxMiB: number;
  /**
   * The heap in use just after the latest major GC so far (the first reading after the count of
   * major GCs went up): what is live, without the garbage the sawtooth of the readings carries.
   */
  heapAfterGcMiB?: number;
  /** RSS just after the latest major GC so far (the lowest reading within 3 s of it: pages are given back as the sweeper frees them). */
  rssAfterGcMiB?: number;
  /** RSS less the V8 heap's committed size, at the sample's time: code, buffers, native libraries. */
  nonHeapMiB?: number;
  /** At the sample's time. */
  heapUsedMiB?: number;
  heapTotalMiB?: number;
  externalMiB?: number;
  /** The highest of the interval's. */
  loopP99Ms?: number;
  majorGcs: number;
  /** `http_requests_total` series: one per method, route template and status. */
  httpSeries?: number;
  /** Of the server, over the interval. */
  cores: number;
  /** The whole machine, over the interval (/proc/stat). */
  machineCores: number;
  load1: number;
  requests: number;
  expected4xx: number;
  failed: number;
  notSent: number;
  p50Ms?: number;
  p99Ms?: number;
}

const MiB = 2 ** 20;
const READ_EVERY_MS = 1_000;

/** The unlabelled values of a scrape, `nodejs_gc_duration_seconds_count{kind="major"}`, and the request series. */
async function scrape(base: string): Promise<Map<string, number>> {
  const res = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (!res.ok) throw new Error(`/metrics: ${res.status}`);
  const values = new Map<string, number>();
  let series = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('http_requests_total{')) series++;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{kind="major"\})?) ([0-9.e+-]+)$/.exec(line);
    if (match) values.set(match[1], Number(match[2]));
  }
  values.set('http_requests_total:series', series);
  return values;
}

/** Busy jiffies and all jiffies of the machine so far (/proc/stat). */
function machineTicks(): { busy: number; all: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const idle = fields[3] + fields[4];
  const all = fields.slice(0, 8).reduce((s, n) => s + n, 0);
  return { busy: all - idle, all };
}

function percentile(sorted: number[], p: number): number | undefined {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : undefined;
}

const maxOf = (values: (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length ? Math.max(...known) : undefined;
};

class Sampler {
  readonly samples: Sample[] = [];
  /** Every reading of the run, for the chart. */
  readonly readings: Reading[] = [];
  private interval: Reading[] = [];
  private heapAfterGc?: number;
  private rssAfterGc?: number;
  private gcSeenAt = -Infinity;
  private lastMajorGcs?: number;
  private series?: number;
  private timer?: NodeJS.Timeout;
  private reading?: Promise<void>;
  private cpu: number;
  private machine = machineTicks();
  private at = performance.now();

  constructor(
    private readonly pid: number,
    private readonly base: string,
    private readonly load: Load,
    private readonly loadStart: () => number,
  ) {
    this.cpu = cpuMs(pid);
  }

  begin(): void {
    this.timer = setInterval(() => {
      this.reading ??= this.read().finally(() => (this.reading = undefined));
    }, READ_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async read(): Promise<void> {
    const metrics = await scrape(this.base).catch((error: Error) => {
      console.error(`reading: ${error.message}`);
      return new Map<string, number>();
    });
    const mib = (name: string) => (metrics.has(name) ? metrics.get(name)! / MiB : undefined);
    const majorGcs = metrics.get('nodejs_gc_duration_seconds_count{kind="major"}');
    const reading: Reading = {
      t: (Date.now() - this.loadStart()) / 1000,
      rssMiB: (procStatusKb(this.pid, 'VmRSS') ?? 0) / 1024,
      heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
      heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
      externalMiB: mib('nodejs_external_memory_bytes'),
      loopP99Ms: metrics.has('nodejs_eventloop_lag_p99_seconds')
        ? metrics.get('nodejs_eventloop_lag_p99_seconds')! * 1000
        : undefined,
      majorGcs,
    };
    if (majorGcs !== undefined && this.lastMajorGcs !== undefined && majorGcs > this.lastMajorGcs) {
      this.heapAfterGc = reading.heapUsedMiB;
      this.rssAfterGc = reading.rssMiB;
      this.gcSeenAt = reading.t;
    } else if (reading.t - this.gcSeenAt <= 3) {
      this.rssAfterGc = Math.min(this.rssAfterGc!, reading.rssMiB);
    }
    if (majorGcs !== undefined) this.lastMajorGcs = majorGcs;
    this.series = metrics.get('http_requests_total:series') ?? this.series;
    this.interval.push(reading);
    this.readings.push(reading);
  }

  /** Sums up the readings since the last sample. */
  async take(): Promise<Sample> {
    await this.reading;
    await (this.reading = this.read().finally(() => (this.reading = undefined)));
    const readings = this.interval;
    this.interval = [];
    const last = readings[readings.length - 1];
    const first = this.samples.length ? undefined : readings[0];
    const now = performance.now();
    const cpu = cpuMs(this.pid);
    const machine = machineTicks();
    const elapsedMs = Math.max(1, now - this.at);
    const latencies = this.load.latencies.sort((a, b) => a - b);
    this.load.latencies = [];
    const gcsBefore = first?.majorGcs ?? this.samples[this.samples.length - 1]?.majorGcs ?? 0;
    const sample: Sample = {
      t: Math.round(Math.max(0, Date.now() - this.loadStart()) / 1000),
      rssMiB: readings.reduce((s, r) => s + r.rssMiB, 0) / readings.length,
      rssMaxMiB: Math.max(...readings.map((r) => r.rssMiB)),
      heapAfterGcMiB: this.heapAfterGc,
      rssAfterGcMiB: this.rssAfterGc,
      nonHeapMiB: last.heapTotalMiB === undefined ? undefined : last.rssMiB - last.heapTotalMiB,
      heapUsedMiB: last.heapUsedMiB,
      heapTotalMiB: last.heapTotalMiB,
      externalMiB: last.externalMiB,
      loopP99Ms: maxOf(readings.map((r) => r.loopP99Ms)),
      // Counted as a total here, made a count per interval below.
      majorGcs: last.majorGcs ?? 0,
      httpSeries: this.series,
      cores: (cpu - this.cpu) / elapsedMs,
      machineCores: ((machine.busy - this.machine.busy) / Math.max(1, machine.all - this.machine.all)) * cpus().length,
      load1: loadavg()[0],
      requests: this.load.total.requests,
      expected4xx: this.load.total.expected4xx,
      failed: this.load.total.failed,
      notSent: this.load.notSent,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
    };
    this.cpu = cpu;
    this.machine = machine;
    this.at = now;
    this.samples.push(sample);
    const gcs = sample.majorGcs - gcsBefore;
    console.log(
      `t=${String(sample.t).padStart(4)} s  RSS ${fmt(sample.rssMiB, 1)} (max ${fmt(sample.rssMaxMiB, 1)}, after GC ${fmt(sample.rssAfterGcMiB, 1)}) MiB  ` +
        `heap after GC ${fmt(sample.heapAfterGcMiB, 1)} MiB, now ${fmt(sample.heapUsedMiB, 1)} / ${fmt(sample.heapTotalMiB, 1)} MiB  ` +
        `ext ${fmt(sample.externalMiB, 1)} MiB  major GCs ${gcs}  loop p99 ${fmt(sample.loopP99Ms, 1)} ms  series ${sample.httpSeries ?? '—'}  ` +
        `server ${fmt(sample.cores, 2)} cores (machine ${fmt(sample.machineCores, 2)}, load ${fmt(sample.load1, 2)})  ` +
        `${sample.requests} requests, ${sample.expected4xx} expected 4xx, ${sample.failed} failed, ${sample.notSent} not sent  ` +
        `p50/p99 ${fmt(sample.p50Ms, 1)}/${fmt(sample.p99Ms, 1)} ms`,
    );
    return sample;
  }

  /** Major GCs within each sample's interval. */
  majorGcsPerInterval(): number[] {
    return this.samples.map((s, i) => (i === 0 ? 0 : s.majorGcs - this.samples[i - 1].majorGcs));
  }
}

// --- The run ------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const load1AtStart = loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ');
  const { databaseUrl, release } = await benchDatabase('soak');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const nodeFlags = args['node-flags']!.split(' ').filter(Boolean);
  const app = start(
    [...nodeFlags, 'dist/src/main.js'],
    productionEnv(port, {
      DATABASE_URL: databaseUrl,
      JWT_SECRET: SECRET,
      METRICS_TOKEN,
      // Every request names its client in X-Forwarded-For, as a proxy on this machine would.
      TRUST_PROXY: 'loopback',
    }),
  );
  try {
    await waitFor(`${base}/health/ready`, app);
    const pid = app.pid!;
    const seed = await seedBenchData(base, databaseUrl);
    const db = new Client({ connectionString: databaseUrl });
    await db.connect();
    const seeded = (
      await db.query<{ id: string }>('SELECT id FROM tasks WHERE project_id = $1', [seed.projectId])
    ).rows.map((r) => r.id);
    await db.end();
    const load = new Load(base);
    const world: World = {
      load,
      auth: { authorization: `Bearer ${seed.token}` },
      apiKey: { authorization: `Bearer ${seed.apiKey}` },
      projectId: seed.projectId,
      email: seed.email,
      password: seed.password,
      seeded,
      created: [],
      updating: new Set(),
      cursors: [],
      idempotent: [],
    };
    // The seed's access token lives 15 minutes: a session of the run's own, refreshed as it goes.
    const session = await signIn(base, seed.email, seed.password);
    world.auth = { authorization: `Bearer ${session.accessToken}` };
    let refreshToken = session.refreshToken;
    const refresher = setInterval(() => {
      void (async () => {
        const res = (await load.send(
          'refresh the run’s session',
          '/api/v1/auth/refresh',
          { method: 'POST', body: { refreshToken } },
          [200],
        )) as Parsed | undefined;
        const next = res?.parsed?.data as { accessToken: string; refreshToken: string } | undefined;
        if (next) {
          world.auth = { authorization: `Bearer ${next.accessToken}` };
          refreshToken = next.refreshToken;
        }
      })();
    }, 5 * 60_000);

    // Idle first: the sample at 0 sums up 3 s without requests.
    let loadStart = Date.now() + 3_000;
    const sampler = new Sampler(pid, base, load, () => loadStart);
    sampler.begin();
    await sleep(3_000);
    const idle = await sampler.take();
    loadStart = Date.now();
    const until = loadStart + DURATION_S * 1000;
    console.log(`soak: ${DURATION_S} s at ${RATE} req/s offered, a sample every ${INTERVAL_S} s`);
    const ticker = setInterval(() => {
      if (Date.now() < until - 500) void sampler.take();
    }, INTERVAL_S * 1000);
    await offer(world, until);
    clearInterval(ticker);
    clearInterval(refresher);
    await sampler.take();
    sampler.stop();
    const lifetimePeakRssMiB = (procStatusKb(pid, 'VmHWM') ?? 0) / 1024;

    const report: Report = {
      date: startedAt.toISOString(),
      machine: `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      settings: { seconds: DURATION_S, interval: INTERVAL_S, rate: RATE, nodeFlags },
      postgres: process.env.DATABASE_URL ? 'the PostgreSQL server of DATABASE_URL' : 'the embedded PostgreSQL',
      samples: sampler.samples,
      majorGcs: sampler.majorGcsPerInterval(),
      readings: sampler.readings,
      idle,
      lifetimePeakRssMiB,
      load: load1AtStart,
      loadEnd: loadavg()
        .map((n) => n.toFixed(2))
        .join(' / '),
      operations: [...load.byOperation.entries()],
      failures: [...load.failures.entries()],
      total: load.total,
      notSent: load.notSent,
    };
    const verdict = judge(report);
    console.log(verdict.lines.join('\n'));
    if (!SMOKE && !args.dry) {
      writeBenchmarksSection('soak', await renderSection(report, verdict));
      writeFileSync(join(ROOT, 'bench', 'soak.svg'), renderChart(report));
      console.log('Wrote the soak section of BENCHMARKS.md and bench/soak.svg');
    }
    if (load.total.failed > 0) {
      console.error(`${load.total.failed} requests failed: the soak failed`);
      process.exitCode = 1;
    }
  } finally {
    app.kill('SIGTERM');
    await new Promise((resolve) => (app.exitCode !== null ? resolve(undefined) : app.once('exit', resolve)));
    await release();
  }
}

async function signIn(
  base: string,
  email: string,
  password: string,
): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await fetch(`${base}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': randomAddress() },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`sign-in: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { data: { accessToken: string; refreshToken: string } }).data;
}

// --- The verdict and the section of BENCHMARKS.md ---------------------------------------------

interface Report {
  date: string;
  machine: string;
  node: string;
  settings: { seconds: number; interval: number; rate: number; nodeFlags: string[] };
  postgres: string;
  samples: Sample[];
  /** Major GCs within each sample's interval. */
  majorGcs: number[];
  readings: Reading[];
  idle: Sample;
  /** VmHWM: the highest RSS of the process's life, boot and seeding included. */
  lifetimePeakRssMiB: number;
  load: string;
  loadEnd: string;
  operations: [string, Tally][];
  failures: [string, { count: number; example: string }][];
  total: Tally;
  notSent: number;
}

interface Verdict {
  settled: Sample;
  last: Sample;
  /** Of RSS after the latest major GC, and of the interval means (shown, not judged: they move with the GC's phase). */
  rssGrowth?: number;
  rssMeanGrowth: number;
  heapGrowth?: number;
  /** Least-squares slopes over the samples from the settled one on, MiB per minute. */
  rssSlope: number;
  heapSlope?: number;
  /** The highest reading under load. */
  maxRssUnderLoad: number;
  met: { rss: boolean; growth: boolean; errors: boolean };
  lines: string[];
}

function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const pct = (n: number | undefined) => (n === undefined ? '—' : `${n >= 0 ? '+' : '−'}${fmt(Math.abs(n) * 100, 1)} %`);

/**
 * Growth from the first sample at or after 2 minutes (the warm-up over) to the last, of RSS and
 * of the heap just after the latest major GC: single readings, and the means of an interval,
 * swing with the GC's sawtooth by more than the target.
 */
function judge(r: Report): Verdict {
  const underLoad = r.samples.slice(1);
  const last = r.samples[r.samples.length - 1];
  const settled = underLoad.find((s) => s.t >= SETTLED_S) ?? underLoad[0] ?? last;
  const after = r.samples.filter((s) => s.t >= settled.t);
  const rssGrowth =
    last.rssAfterGcMiB !== undefined && settled.rssAfterGcMiB
      ? last.rssAfterGcMiB / settled.rssAfterGcMiB - 1
      : undefined;
  const rssMeanGrowth = last.rssMiB / settled.rssMiB - 1;
  const heapGrowth =
    last.heapAfterGcMiB !== undefined && settled.heapAfterGcMiB
      ? last.heapAfterGcMiB / settled.heapAfterGcMiB - 1
      : undefined;
  const rssSlope = slope(after.map((s) => [s.t / 60, s.rssAfterGcMiB ?? s.rssMiB]));
  const heapSlope = after.every((s) => s.heapAfterGcMiB !== undefined)
    ? slope(after.map((s) => [s.t / 60, s.heapAfterGcMiB!]))
    : undefined;
  const maxRssUnderLoad = Math.max(...r.readings.filter((x) => x.t > 0).map((x) => x.rssMiB));
  const met = {
    rss: maxRssUnderLoad <= TARGET_RSS_MIB,
    growth:
      rssGrowth !== undefined && heapGrowth !== undefined && rssGrowth <= TARGET_GROWTH && heapGrowth <= TARGET_GROWTH,
    errors: r.total.failed === 0,
  };
  const lines = [
    `RSS after the latest major GC: at ${settled.t} s ${fmt(settled.rssAfterGcMiB, 1)} MiB, at the end ${fmt(last.rssAfterGcMiB, 1)} MiB (${pct(rssGrowth)}; fitted ${fmt(rssSlope, 2)} MiB/min); interval means ${fmt(settled.rssMiB, 1)} → ${fmt(last.rssMiB, 1)} MiB (${pct(rssMeanGrowth)}); idle ${fmt(r.idle.rssMiB, 1)} MiB`,
    `RSS peak under load: ${fmt(maxRssUnderLoad, 1)} MiB (VmHWM ${fmt(r.lifetimePeakRssMiB, 1)} MiB) — target ≤ ${TARGET_RSS_MIB} MiB: ${met.rss ? 'met' : 'NOT MET'}`,
    `heap after the latest major GC: at ${settled.t} s ${fmt(settled.heapAfterGcMiB, 1)} MiB, at the end ${fmt(last.heapAfterGcMiB, 1)} MiB (${pct(heapGrowth)}; fitted ${fmt(heapSlope, 2)} MiB/min) — growth target ≤ ${TARGET_GROWTH * 100} % (RSS and heap): ${met.growth ? 'met' : 'NOT MET'}`,
    `requests: ${r.total.requests} (${r.total.ok} ok, ${r.total.expected4xx} expected 4xx, ${r.total.failed} failed, ${r.notSent} not sent)`,
  ];
  return { settled, last, rssGrowth, rssMeanGrowth, heapGrowth, rssSlope, heapSlope, maxRssUnderLoad, met, lines };
}

const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function renderSection(r: Report, v: Verdict): Promise<string> {
  const rows = r.samples.map(
    (s, i) =>
      `| ${i === 0 ? 'idle (before)' : `${fmt(s.t / 60, 1)} min`} | ${fmt(s.rssMiB, 1)} / ${fmt(s.rssMaxMiB, 1)} | ${fmt(s.rssAfterGcMiB, 1)} | ${fmt(s.heapAfterGcMiB, 1)} | ${fmt(s.heapUsedMiB, 1)} / ${fmt(s.heapTotalMiB, 1)} | ${fmt(s.nonHeapMiB, 1)} | ${fmt(s.externalMiB, 1)} | ${r.majorGcs[i]} | ${fmt(s.loopP99Ms, 1)} | ${i === 0 ? '—' : `${fmt(s.p50Ms, 1)} / ${fmt(s.p99Ms, 1)}`} | ${s.httpSeries ?? '—'} | ${fmt(s.cores, 2)} / ${fmt(s.machineCores, 2)} | ${fmt(s.requests)} | ${fmt(s.expected4xx)} | ${fmt(s.failed)} |`,
  );
  const operations = r.operations.map(
    ([name, t]) => `| ${name} | ${fmt(t.requests)} | ${fmt(t.ok)} | ${fmt(t.expected4xx)} | ${fmt(t.failed)} |`,
  );
  const failures = r.failures.map(([what, f]) => `- ${what} × ${f.count}: \`${f.example.replace(/`/g, "'")}\``);
  const underLoad = r.samples.slice(1);
  const serverCores = underLoad.reduce((s, x) => s + x.cores, 0) / Math.max(1, underLoad.length);
  const machineCores = underLoad.reduce((s, x) => s + x.machineCores, 0) / Math.max(1, underLoad.length);
  const allMet = v.met.rss && v.met.growth && v.met.errors;
  const series = [...new Set(underLoad.map((s) => s.httpSeries))];
  const section = `## Soak: memory over a ${fmt(r.settings.seconds / 60, 0)}-minute mixed run (issue #16)

Written by \`npm run bench:soak\` (bench/soak.ts) on ${r.date.slice(0, 10)}. Tasklane (compiled,
\`NODE_ENV=production\`, production rate limits, \`TRUST_PROXY=loopback\`) on a fresh database seeded as
for \`npm run bench\` (${r.postgres}), offered ${fmt(r.settings.rate)} requests a second for ${fmt(r.settings.seconds / 60, 1)} minutes: GETs by id
(access token and API key), lists of 50 and their next pages, creations (some with a fresh
Idempotency-Key, a few replayed), GET + PATCH with If-Match, comments, \`/auth/me\`, 404s on random
paths and unknown ids, and every ${SIGN_IN_EVERY_MS / 1000} s a sign-in whose session is refreshed and ended (a revocation), its
access token then refused. Every request comes from a random address of 10.0.0.0/8 in
X-Forwarded-For, so that the rate limiter holds a counter per client. The server is read every
second — RSS (\`/proc/<pid>/status\`); the V8 heap, external memory, major GCs and the event loop's
p99 delay from its own \`/metrics\` (prom-client's default metrics); the \`http_requests_total\`
series — and each ${r.settings.interval} s interval is a row: RSS as the mean and the highest of its readings, RSS and the heap
in use just after the latest major GC (what is live: single readings swing with the GC's sawtooth,
here between about ${fmt(Math.min(...r.readings.filter((x) => x.t > 0 && x.heapUsedMiB !== undefined).map((x) => x.heapUsedMiB!)), 0)} and ${fmt(Math.max(...r.readings.filter((x) => x.t > 0 && x.heapUsedMiB !== undefined).map((x) => x.heapUsedMiB!)), 0)} MiB), and the heap at the row's time.

- Machine: ${r.machine}; Node ${r.node}; load average (1 / 5 / 15 min) ${r.load} at start, ${r.loadEnd} at the end
- Command: \`npm run bench:soak\` (options: \`-- --minutes ${fmt(r.settings.seconds / 60, 1)} --interval ${r.settings.interval} --rate ${r.settings.rate}${r.settings.nodeFlags.length ? ` --node-flags='${r.settings.nodeFlags.join(' ')}'` : ''}\`; \`-- --smoke\` runs 20 s and writes nothing); the server ran with ${r.settings.nodeFlags.length ? `\`${r.settings.nodeFlags.join(' ')}\`` : "Node's default heap settings"}
- Requests: ${fmt(r.total.requests)} — ${fmt(r.total.ok)} answered as expected, ${fmt(r.total.expected4xx)} expected 4xx (the 404s, the revoked token's 401), **${fmt(r.total.failed)} failed**; ${fmt(r.notSent)} not sent (more than ${MAX_IN_FLIGHT} waiting)
- The server used ${fmt(serverCores, 2)} cores on average under load; the whole machine ${fmt(machineCores, 2)} of ${cpus().length} (PostgreSQL, the load generator and other engineers' work included)

| time | RSS MiB (mean / max) | RSS after GC MiB | heap after GC MiB | heap used / total MiB | RSS − heap total MiB | external MiB | major GCs | loop p99 ms | p50 / p99 ms | series | cores (server / machine) | requests | expected 4xx | failed |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join('\n')}

![RSS and V8 heap over the soak](bench/soak.svg)

**Verdict: ${allMet ? 'no growth, within the target' : 'target not met'}.** From the row at ${fmt(v.settled.t / 60, 1)} min (after the warm-up) to the last, RSS just after a major GC went from
${fmt(v.settled.rssAfterGcMiB, 1)} to ${fmt(v.last.rssAfterGcMiB, 1)} MiB (${pct(v.rssGrowth)}; fitted over those rows: ${fmt(v.rssSlope, 2)} MiB a minute; the interval means, which move with the GC's phase: ${fmt(v.settled.rssMiB, 1)} → ${fmt(v.last.rssMiB, 1)} MiB, ${pct(v.rssMeanGrowth)}) and the heap
live after a major GC from ${fmt(v.settled.heapAfterGcMiB, 1)} to ${fmt(v.last.heapAfterGcMiB, 1)} MiB (${pct(v.heapGrowth)}; ${fmt(v.heapSlope, 2)} MiB a minute); target: at most +${TARGET_GROWTH * 100} % — ${v.met.growth ? 'met' : '**not met**'}.
RSS under load peaked at ${fmt(v.maxRssUnderLoad, 1)} MiB (the highest reading; the process's VmHWM, boot and seeding included: ${fmt(r.lifetimePeakRssMiB, 1)} MiB; idle before the load: ${fmt(r.idle.rssMiB, 1)} MiB); target ≤ ${TARGET_RSS_MIB} MiB — ${v.met.rss ? 'met' : '**not met**'}.
Failed requests: ${fmt(r.total.failed)} — ${v.met.errors ? 'none' : '**the soak failed**'}. \`http_requests_total\` series under load: ${series.join(', ')} (one per method, route template and status: random paths add none).
What bounds each cache, map and registry in the process is in [docs/operations.md](docs/operations.md#memory-what-bounds-each-cache).

| operation | requests | as expected | expected 4xx | failed |
| --- | ---: | ---: | ---: | ---: |
${operations.join('\n')}
${failures.length ? `\nFailures (first answer of each kind):\n\n${failures.join('\n')}\n` : ''}`;
  return (
    await format(section, { ...(await resolveConfig(join(ROOT, 'BENCHMARKS.md'))), parser: 'markdown' })
  ).trimEnd();
}

function renderChart(r: Report): string {
  const width = 760;
  const height = 320;
  const left = 60;
  const right = 130;
  const top = 34;
  const bottom = 40;
  const readings = r.readings.filter((x) => x.t >= -5);
  const maxT = Math.max(1, ...readings.map((x) => x.t));
  const minT = Math.min(0, ...readings.map((x) => x.t));
  const highest = Math.max(...readings.map((x) => Math.max(x.rssMiB, x.heapTotalMiB ?? 0)), TARGET_RSS_MIB);
  const maxY = Math.ceil(highest / 50) * 50 + 25;
  const x = (t: number) => left + ((t - minT) / (maxT - minT)) * (width - left - right);
  const y = (v: number) => top + (1 - v / maxY) * (height - top - bottom);
  const line = (points: [number, number | undefined][], colour: string, label: string, extra = '') => {
    const known = points.filter((p): p is [number, number] => p[1] !== undefined);
    if (!known.length) return '';
    const coords = known.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
    const end = known[known.length - 1][1];
    return `<polyline fill="none" stroke="${colour}" ${extra} points="${coords.join(' ')}"/>
<text x="${width - right + 8}" y="${(y(end) + 4).toFixed(1)}" font-size="12" fill="${colour}">${label}</text>`;
  };
  const grid: string[] = [];
  for (let v = 0; v <= maxY; v += 50) {
    grid.push(
      `<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${width - right}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/><text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v}</text>`,
    );
  }
  const minuteStep = maxT > 900 ? 2 : 1;
  for (let m = 0; m * 60 <= maxT; m += minuteStep) {
    grid.push(
      `<text x="${x(m * 60).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle" font-size="11">${m}</text>`,
    );
  }
  const afterGc = r.samples.slice(1).map((s): [number, number | undefined] => [s.t, s.heapAfterGcMiB]);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${left}" y="20" font-size="13" font-weight="bold">Memory over the soak, MiB (a reading a second; ${fmt(r.settings.rate)} req/s offered from minute 0)</text>
${grid.join('\n')}
<text x="${(left + width - right) / 2}" y="${height - 6}" text-anchor="middle" font-size="12">minutes under load</text>
<line x1="${left}" y1="${y(TARGET_RSS_MIB).toFixed(1)}" x2="${width - right}" y2="${y(TARGET_RSS_MIB).toFixed(1)}" stroke="#c62828" stroke-dasharray="4 3"/>
<text x="${width - right + 8}" y="${(y(TARGET_RSS_MIB) + 4).toFixed(1)}" font-size="12" fill="#c62828">RSS target</text>
${line(
  readings.map((p) => [p.t, p.rssMiB]),
  '#1565c0',
  'RSS',
  'stroke-width="1.5"',
)}
${line(
  readings.map((p) => [p.t, p.heapTotalMiB]),
  '#81c784',
  'heap total',
  'stroke-width="1"',
)}
${line(
  readings.map((p) => [p.t, p.heapUsedMiB]),
  '#2e7d32',
  'heap used',
  'stroke-width="1"',
)}
${line(afterGc, '#e65100', 'heap after GC', 'stroke-width="2.5"')}
${line(
  r.samples.slice(1).map((s): [number, number | undefined] => [s.t, s.rssAfterGcMiB]),
  '#0d47a1',
  'RSS after GC',
  'stroke-width="2.5"',
)}
${line(
  readings.map((p) => [p.t, p.externalMiB]),
  '#757575',
  'external',
  'stroke-width="1"',
)}
</svg>
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
