import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestApp, TestApp } from './support/test-app';

const run = promisify(execFile);
const RULESET = resolve(__dirname, '..', '.spectral.yaml');
const bin = (name: string): string => resolve(__dirname, '..', 'node_modules', '.bin', name);

/** What a failed lint printed, so that the assertion message says what to fix. */
async function lint(command: string, args: string[], cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? 1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

// API.md §15: the served document passes spectral (oas + OWASP) and redocly with no errors.
describe('the served OpenAPI document', () => {
  let t: TestApp;
  let dir: string;

  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.http().get('/docs/openapi.json').expect(200);
    dir = mkdtempSync(join(tmpdir(), 'tasklane-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(res.body, null, 2));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('passes spectral lint with spectral:oas and the OWASP ruleset', async () => {
    const result = await lint(
      bin('spectral'),
      ['lint', 'openapi.json', '--ruleset', RULESET, '--fail-severity', 'error', '-D'],
      dir,
    );
    expect(result.output).toContain('No results with a severity of');
    expect(result.code).toBe(0);
  }, 60_000);

  it('passes redocly lint', async () => {
    const result = await lint(bin('redocly'), ['lint', 'openapi.json'], dir);
    expect(result.output).toContain('Your API description is valid');
    expect(result.code).toBe(0);
  }, 60_000);
});
