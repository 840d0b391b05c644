/**
 * `node -r ./tools/swc-register.js bench/compare-builds.ts --before <dir> [--after <dir>]
 * [--before-env K=V,…] [--after-env K=V,…]`: CPU
 * per request of two built checkouts of Tasklane (`npm run build` in each), on one database, in
 * alternating rounds — for "did this change make a route cheaper or dearer?", where req/s moves
 * too much between runs on a shared machine. Needs DATABASE_URL pointing at a PostgreSQL server
 * whose user may create databases (a fresh one is made and dropped). The "after" build migrates
 * it; the "before" build must not need migrations the other lacks.
 */
import autocannon from 'autocannon';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { seedBenchData } from './seed';

const { values: args } = parseArgs({
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: resolve(__dirname, '..') },
    rounds: { type: 'string', default: '5' },
    duration: { type: 'string', default: '4' },
    connections: { type: 'string', default: '32' },
    // Extra environment for one side, `K=V,K=V`: the same build twice, with a setting changed.
    'before-env': { type: 'string', default: '' },
    'after-env': { type: 'string', default: '' },
  },
});
const extraEnv = (list: string): Record<string, string> =>
  Object.fromEntries(
    list
      .split(',')
      .filter(Boolean)
      // At the first '=': a value may hold more (NODE_OPTIONS=--max-old-space-size=256).
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as [string, string]),
  );
const ADMIN_URL = process.env.DATABASE_URL;
if (!args.before || !ADMIN_URL)
  throw new Error('usage: DATABASE_URL=… compare-builds.ts --before <dir> [--after <dir>]');
const SECRET = randomBytes(36).toString('base64url');

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function ready(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (
      await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`the server on ${port} did not become ready`);
}

function server(
  dir: string,
  port: number,
  databaseUrl: string,
  migrate: boolean,
  extra: Record<string, string>,
): ChildProcess {
  return spawn(process.execPath, ['dist/src/main.js'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: databaseUrl,
      DB_POOL_MAX: '10',
      JWT_SECRET: SECRET,
      // Required in production; nothing in the benchmarks sends mail.
      SMTP_URL: 'smtp://127.0.0.1:9',
      APP_URL: 'http://127.0.0.1',
      LOG_LEVEL: 'info',
      MIGRATIONS_RUN: String(migrate),
      RATE_LIMIT_PER_MINUTE: '1000000',
      ...extra,
    },
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  const name = `tasklane_compare_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL!);
  url.pathname = `/${name}`;
  const builds = { after: { port: 4101 }, before: { port: 4102 } } as Record<
    string,
    { port: number; app?: ChildProcess }
  >;
  try {
    builds.after.app = server(args.after!, builds.after.port, url.href, true, extraEnv(args['after-env']!));
    await ready(builds.after.port);
    builds.before.app = server(args.before!, builds.before.port, url.href, false, extraEnv(args['before-env']!));
    await ready(builds.before.port);

    // The bench's data: a user, an org, a project of 1,001 tasks.
    const { token, projectId, taskId } = await seedBenchData(`http://127.0.0.1:${builds.after.port}`, url.href);

    const scenarios: Record<string, { path: string; method?: 'POST'; body?: string }> = {
      'GET by id': { path: `/api/v1/tasks/${taskId}` },
      'list of 50': { path: `/api/v1/projects/${projectId}/tasks?status=todo,in_progress&limit=50` },
      'POST a task': {
        path: `/api/v1/projects/${projectId}/tasks`,
        method: 'POST',
        body: JSON.stringify({ title: 'Benchmark task', priority: 'high', labels: ['bench'] }),
      },
    };
    for (const [scenario, request] of Object.entries(scenarios)) {
      const cpu: Record<string, number[]> = { before: [], after: [] };
      const rps: Record<string, number[]> = { before: [], after: [] };
      for (let round = 0; round < Number(args.rounds); round++) {
        for (const label of round % 2 ? ['before', 'after'] : ['after', 'before']) {
          const { port, app } = builds[label];
          const start = cpuMs(app!.pid!);
          const result = await autocannon({
            url: `http://127.0.0.1:${port}${request.path}`,
            method: request.method ?? 'GET',
            body: request.body,
            connections: Number(args.connections),
            duration: Number(args.duration),
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          });
          if (result.non2xx > 0) throw new Error(`${scenario} (${label}): ${result.non2xx} answers were not 2xx`);
          cpu[label].push(((cpuMs(app!.pid!) - start) * 1000) / result['2xx']);
          rps[label].push(result.requests.average);
        }
      }
      const line = (label: string) =>
        `${median(cpu[label]).toFixed(0)} µs/request (rounds ${cpu[label].map((x) => x.toFixed(0)).join(' ')}), ${median(rps[label]).toFixed(0)} req/s`;
      console.log(
        `${scenario}: before ${line('before')}; after ${line('after')}; after ÷ before ${(median(cpu.after) / median(cpu.before)).toFixed(2)}`,
      );
    }
  } finally {
    for (const { app } of Object.values(builds)) app?.kill();
    await sleep(1000);
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

main().catch((error: Error) => {
  console.error(error);
  process.exit(1);
});
