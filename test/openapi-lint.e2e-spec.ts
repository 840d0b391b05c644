import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { createTestApp, TestApp } from './support/test-app';

const run = promisify(execFile);
const RULESET = resolve(__dirname, '..', '.spectral.yaml');
const bin = (name: string): string => resolve(__dirname, '..', 'node_modules', '.bin', name);

/** A linter's exit code and its (JSON) report on stdout; what it says on stderr is shown. */
async function lint(command: string, args: string[], cwd: string): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout, stderr } = await run(command, args, {
      cwd,
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
    });
    if (stderr.includes('rror')) console.warn(stderr);
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    if (failed.stderr) console.warn(failed.stderr);
    return { code: failed.code ?? 1, stdout: failed.stdout ?? '' };
  }
}

/** The codes each error status may carry (the error codes table of the contract). */
const CODES_BY_STATUS: Record<number, string[]> = {
  400: ['VALIDATION_FAILED', 'MALFORMED_BODY', 'INVALID_CURSOR'],
  401: ['UNAUTHENTICATED'],
  403: ['FORBIDDEN'],
  404: ['NOT_FOUND'],
  409: ['CONFLICT', 'IDEMPOTENCY_IN_PROGRESS'],
  412: ['PRECONDITION_FAILED'],
  413: ['PAYLOAD_TOO_LARGE'],
  415: ['UNSUPPORTED_MEDIA_TYPE'],
  416: ['RANGE_NOT_SATISFIABLE'],
  422: ['IDEMPOTENCY_KEY_REUSED'],
  429: ['RATE_LIMITED'],
  500: ['INTERNAL'],
  503: ['UNAVAILABLE'],
};

type Examples = Record<string, { value: { error: { status: number; code: string; requestId: string } } }>;
type Schema = {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  example?: unknown;
};

/** The routes of §16–§20: invitations, password reset, API keys, webhooks, sessions. */
const RECENT_ROUTES =
  /^\/api\/v1\/((orgs\/\{orgId\}\/)?(invitations|api-keys|webhooks)|auth\/(password-reset|sessions))(\/|$)/;
/** What those routes answer with, besides their own resources: the membership an accepted invitation makes. */
const OTHER_RESOURCES = new Set(['MemberResponse']);
type Document = {
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<
          string,
          { content?: Record<string, { schema?: { $ref?: string }; examples?: Examples; example?: unknown }> }
        >;
        /** A webhook subscription's: the delivery POSTed to the subscribed URL. */
        callbacks?: Record<
          string,
          Record<string, Record<string, { requestBody?: { content?: Record<string, { schema?: Schema }> } }>>
        >;
      }
    >
  >;
  components: { schemas: Record<string, Schema> };
};

// The served document passes spectral (oas + OWASP) and redocly with no errors and no warnings.
describe('the served OpenAPI document', () => {
  let t: TestApp;
  let dir: string;
  let document: Document;

  beforeAll(async () => {
    t = await createTestApp();
    const res = await t.http().get('/docs/openapi.json').expect(200);
    document = res.body as Document;
    dir = mkdtempSync(join(tmpdir(), 'tasklane-openapi-'));
    writeFileSync(join(dir, 'openapi.json'), JSON.stringify(res.body, null, 2));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('passes spectral lint with spectral:oas and the OWASP ruleset: no errors, no warnings', async () => {
    const result = await lint(
      bin('spectral'),
      ['lint', 'openapi.json', '--ruleset', RULESET, '--fail-severity', 'hint', '--format', 'json', '--quiet'],
      dir,
    );
    const problems = JSON.parse(result.stdout) as { code: string; path: string[] }[];
    expect(problems.map((p) => `${p.code} at ${p.path.join('/')}`)).toEqual([]);
    expect(result.code).toBe(0);
  }, 60_000);

  it('passes redocly lint: no errors, no warnings', async () => {
    const result = await lint(bin('redocly'), ['lint', 'openapi.json', '--format', 'json'], dir);
    const report = JSON.parse(result.stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(result.code).toBe(0);
  }, 60_000);

  it('gives every error response examples of its own status, with codes that status carries', () => {
    let checked = 0;
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          const json = response.content?.['application/json'];
          if (json?.schema?.$ref !== '#/components/schemas/ErrorEnvelope') continue;
          const where = `${method.toUpperCase()} ${path} ${status}`;
          const examples = Object.values(json.examples ?? {});
          expect({ where, hasExamples: examples.length > 0 }).toEqual({ where, hasExamples: true });
          for (const { value } of examples) {
            expect({ where, status: value.error.status }).toEqual({ where, status: Number(status) });
            expect({ where, known: CODES_BY_STATUS[Number(status)].includes(value.error.code) }).toEqual({
              where,
              known: true,
            });
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(400);
  });

  it('gives every property of the §16–§20 success bodies, and of the webhook event they send, an example', () => {
    const { schemas } = document.components;
    const nameOf = (ref: string): string => ref.replace('#/components/schemas/', '');
    // The data of each 2xx envelope of those routes, and the body of the webhook callback.
    const bodies = new Set<string>();
    for (const [path, item] of Object.entries(document.paths)) {
      if (!RECENT_ROUTES.test(path)) continue;
      for (const operation of Object.values(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          const envelope = response.content?.['application/json']?.schema?.$ref;
          if (!/^2\d\d$/.test(status) || !envelope) continue;
          const data = schemas[nameOf(envelope)].properties!.data;
          bodies.add(nameOf((data.items ?? data).$ref!));
        }
        for (const expression of Object.values(operation.callbacks ?? {})) {
          for (const callback of Object.values(expression)) {
            for (const { requestBody } of Object.values(callback)) {
              const ref = requestBody?.content?.['application/json']?.schema?.$ref;
              if (ref) bodies.add(nameOf(ref));
            }
          }
        }
      }
    }
    // Each property has an example, but one that is an object schema of its own (or a list of
    // them): that schema's properties are checked instead.
    const checked = new Set<string>();
    const missing: string[] = [];
    const check = (name: string): void => {
      if (checked.has(name) || OTHER_RESOURCES.has(name)) return;
      checked.add(name);
      for (const [property, schema] of Object.entries(schemas[name].properties ?? {})) {
        const ref = (schema.items ?? schema).$ref;
        if (ref && schemas[nameOf(ref)].type === 'object') check(nameOf(ref));
        else if (!('example' in schema)) missing.push(`${name}.${property}`);
      }
    };
    for (const name of bodies) check(name);
    expect(missing).toEqual([]);
    expect([...checked].sort()).toEqual([
      'ApiKeyResponse',
      'CreatedApiKeyResponse',
      'CreatedWebhookResponse',
      'InvitationPreviewResponse',
      'InvitationResponse',
      'PasswordResetRequestedResponse',
      'SessionResponse',
      'WebhookDeliveryResponse',
      'WebhookEvent',
      'WebhookEventActor',
      'WebhookResponse',
    ]);
  });

  it('serves the same document as YAML at /docs/openapi.yaml, and nothing at /docs-yaml', async () => {
    const res = await t.http().get('/docs/openapi.yaml').expect(200);
    expect(res.headers['content-type']).toMatch(/^text\/yaml/);
    expect(load(res.text)).toEqual(document);
    await t.http().get('/docs-yaml').expect(404);
  });
});
