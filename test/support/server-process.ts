import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { Client } from 'pg';
import request from 'supertest';
import { createTestDatabase, TEST_JWT_SECRET, TestApp } from './test-app';

export const ROOT = resolve(__dirname, '../..');

import { freePort, sleep } from './child-processes';

export { freePort, sleep };

/** A TypeScript entry point of src/ (main.ts, cli.ts) run as `npm start` runs it, compiled on the fly. */
export function runSource(
  entry: string,
  args: string[],
  env: Record<string, string>,
  stdin: 'ignore' | 'pipe' = 'ignore',
): ChildProcess {
  return spawn(process.execPath, sourceCommand(entry, args), {
    cwd: ROOT,
    env: testProcessEnv(env),
    stdio: [stdin, 'pipe', 'pipe'],
  });
}

/** The arguments of `node` that run a TypeScript source file of the project. */
export const sourceCommand = (entry: string, args: string[]): string[] => [
  '-r',
  './tools/swc-register.js',
  entry,
  ...args,
];

/** The environment of a process the tests start: this one's, as tests run, with `env` on top. */
export const testProcessEnv = (env: Record<string, string>): NodeJS.ProcessEnv => ({
  ...process.env,
  NODE_ENV: 'test',
  JWT_SECRET: TEST_JWT_SECRET,
  LOG_LEVEL: 'silent',
  ...env,
});

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  databaseUrl: string;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Runs a statement on the server's database, beside it. */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Kills the process if it still runs, and drops its database unless it was given one. */
  dispose(): Promise<void>;
}

/**
 * The real server process (src/main.ts) on 127.0.0.1 and a free port, on a fresh database
 * (or `databaseUrl`), started once it says it listens.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  options: { databaseUrl?: string } = {},
): Promise<ServerProcess> {
  const database = options.databaseUrl ? undefined : await createTestDatabase();
  const databaseUrl = options.databaseUrl ?? database!.url;
  const port = await freePort();
  const child = runSource('src/main.ts', [], {
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...env,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const started = Date.now();
  while (!output.includes('listening on')) {
    if (child.exitCode !== null || Date.now() - started > 25_000) {
      child.kill('SIGKILL');
      await database?.drop();
      throw new Error(`server did not start:\n${output}`);
    }
    await sleep(50);
  }
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    databaseUrl,
    output: () => output,
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    dispose: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
      await client.end();
      await database?.drop();
    },
  };
}

/**
 * The server process seen through the TestApp interface that the test helpers take (HTTP and
 * direct SQL), for helpers such as createWorld that only use those two.
 */
export function asTestApp(server: ServerProcess): TestApp {
  return {
    http: () => request(server.url),
    dataSource: { query: (sql: string, params?: unknown[]) => server.query(sql, params) },
  } as unknown as TestApp;
}
