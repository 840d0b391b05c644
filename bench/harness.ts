/**
 * What the benchmarks share to run a server and watch it: a free port, starting a Node process
 * from the repository's root, waiting for it to answer, and reading its memory and CPU from /proc.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

/** A field of /proc/<pid>/status in kB (VmRSS, VmHWM, RssAnon…), or undefined. */
export function procStatusKb(pid: number, field: string): number | undefined {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  return line === undefined ? undefined : Number(line.replace(/\D/g, ''));
}

/** Resident set size of a process, MiB (rounded). */
export function rssMiB(pid: number): number {
  return Math.round((procStatusKb(pid, 'VmRSS') ?? 0) / 1024);
}

/** utime + stime of a process so far, in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Polls `url` until it answers 2xx; how long that took, ms. Fails if `child` exits first. */
export async function waitFor(url: string, child: ChildProcess, timeoutMs = 30_000): Promise<number> {
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

/**
 * Node with `args`, from the repository's root, with `env` on top of this process's; its stdout
 * discarded (the servers log one JSON line per request: to /dev/null), or piped for `logs`.
 */
export function start(args: string[], env: Record<string, string>, { logs = false } = {}): ChildProcess {
  return spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', logs ? 'pipe' : 'ignore', 'inherit'],
  });
}

/** Rate limits out of reach, for benchmarks that are not about them. */
export const UNLIMITED_RATES = {
  RATE_LIMIT_PER_MINUTE: '1000000',
  LOGIN_RATE_LIMIT_PER_IP: '1000000',
  LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
};

/**
 * What every benchmark gives the compiled server (`dist/src/main.js`) to run as deployed, in
 * production mode on 127.0.0.1:`port`, with `extra` on top (the database, the secret, limits…).
 */
export function productionEnv(port: number, extra: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    // Required in production; the benchmarks send no mail (what is queued fails, and is retried).
    SMTP_URL: 'smtp://127.0.0.1:9',
    APP_URL: 'http://127.0.0.1',
    LOG_LEVEL: 'info',
    ...extra,
  };
}
