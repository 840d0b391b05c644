import { randomUUID } from 'node:crypto';
import { MAX_JSON_VALUES } from '../src/common/http/input-inspection';
import { createWorld, fillPath, Operation, operations, SchemaObject, World } from './support/route-catalog';
import { asTestApp, ServerProcess, sleep, startServerProcess } from './support/server-process';
import type { TestApp } from './support/test-app';
import { MULTIPART, multipartBody, PNG, zip } from './support/upload-helpers';
import { bearer } from './support/users';

// "No request that fits the body and URL limits, of any shape, blocks the event loop for more
// than 50 ms." Every writing and listing operation of the OpenAPI document gets the worst bodies,
// query strings and headers we know of, sent to the real server process. That process samples
// its own event loop with perf_hooks.monitorEventLoopDelay (every 10 ms) for /metrics, where
// nodejs_eventloop_lag_max_seconds is the longest delay since the previous scrape: scraped right
// before and right after each request, it is what that request held the loop for. A separate
// process, so that the test's own work (building 1 MiB bodies, its garbage collections) is not
// counted against the server.

const BOUND_MS = 50;
const MIB = 1024 * 1024;
/** Node accepts 16 KB of request head; a URL or a header of 14 KB leaves room for the rest. */
const HEAD = 14 * 1024;
/** As many values as a JSON body may hold, nearly. */
const UNDER = MAX_JSON_VALUES - 2;

interface Case {
  what: string;
  method: Operation['method'];
  url: string;
  contentType?: string;
  body?: Buffer;
  headers?: Record<string, string>;
}

const json = (text: string): Buffer => Buffer.from(text, 'utf8');
/** `count` copies of `unit`, joined, as JSON array items. */
const items = (unit: string, count: number): string => Array(count).fill(unit).join(',');
/** A string of about `bytes` bytes made of `unit`. */
const fill = (unit: string, bytes: number): string => unit.repeat(Math.floor(bytes / unit.length));

let generic: [string, Buffer][] | undefined;

/** Bodies that any JSON route may receive, each within 1 MiB (made once). */
function genericJsonBodies(): [string, Buffer][] {
  return (generic ??= [
    [`${UNDER} unknown keys`, json(`{${Array.from({ length: UNDER }, (_, i) => `"k${i}":${i}`).join(',')}}`)],
    ['80,000 unknown keys', json(`{${Array.from({ length: 80_000 }, (_, i) => `"k${i}":1`).join(',')}}`)],
    [`a top-level array of ${UNDER / 2} objects`, json(`[${items('{"title":"x"}', UNDER / 2)}]`)],
    ['a top-level array of 500,000 zeros', json(`[${items('0', 500_000)}]`)],
    ['350,000 empty arrays', json(`[${items('[]', 340_000)}]`)],
    [
      'arrays nested 63 deep, as many as fit',
      json(`{"x":[${items(`${'['.repeat(62)}${']'.repeat(62)}`, Math.floor(UNDER / 63))}]}`),
    ],
    ['1 MiB of \\u escapes in one string', json(`{"x":"${fill('\\u0041', MIB - 16)}"}`)],
    ['1 MiB of escaped emoji', json(`{"x":"${fill('\\ud83d\\ude00', MIB - 16)}"}`)],
    ['1 MiB of JSON that breaks at its last byte', json(`{"x":"${fill('a', MIB - 16)}"`)],
  ]);
}

/** The generic bodies, and the worst for each of the operation's own properties. */
function jsonBodies(properties: Record<string, SchemaObject>): [string, Buffer][] {
  const bodies = [...genericJsonBodies()];
  for (const [name, schema] of Object.entries(properties)) {
    if (schema.type === 'array') {
      bodies.push([`${name}: ${UNDER} strings`, json(`{"${name}":[${items('"ab"', UNDER)}]}`)]);
      bodies.push([`${name}: 200,000 strings`, json(`{"${name}":[${items('"ab"', 200_000)}]}`)]);
      bodies.push([
        `${name}: ${UNDER} distinct strings`,
        json(`{"${name}":[${Array.from({ length: UNDER }, (_, i) => `"l${i}"`)}]}`),
      ]);
    } else {
      bodies.push([`${name}: 1 MiB string`, json(`{"${name}":"${fill('x', MIB - 64)}"}`)]);
      // Runs that make backtracking regular expressions (email, trimming, patterns) quadratic.
      bodies.push([`${name}: 1 MiB of "a." after an @`, json(`{"${name}":"a@${fill('a.', MIB - 64)}!"}`)]);
      bodies.push([`${name}: 1 MiB of spaces and dots`, json(`{"${name}":"a${fill(' .', MIB - 64)}a"}`)]);
    }
  }
  return bodies;
}

function formBodies(properties: Record<string, SchemaObject>): [string, Buffer][] {
  const names = Object.keys(properties);
  return [
    ['100 fields of 10 KB', Buffer.from(Array.from({ length: 100 }, (_, i) => `f${i}=${fill('x', 10_000)}`).join('&'))],
    ['5,000 fields', Buffer.from(Array.from({ length: 5_000 }, (_, i) => `f${i}=1`).join('&'))],
    ...names.map((name): [string, Buffer] => [
      `${name}: 1 MiB of %41`,
      Buffer.from(`${name}=${fill('%41', MIB - 64)}`),
    ]),
  ];
}

function queryStrings(op: Operation): [string, string][] {
  const cases: [string, string][] = [
    ['1,000 unknown parameters', Array.from({ length: 1000 }, (_, i) => `p${i}=1`).join('&')],
    ['a 14 KB cursor', `cursor=${fill('x', HEAD)}`],
    ['14 KB of %FF', fill('%FF', HEAD)],
  ];
  for (const { name, schema } of op.query) {
    cases.push([`${name}: 14 KB`, `${name}=${fill('a', HEAD)}`]);
    cases.push([`${name}: repeated 1,000 times`, Array(1000).fill(`${name}=todo`).join('&')]);
    if (schema.type === 'array') cases.push([`${name}: 7,000 commas`, `${name}=${fill('a,', HEAD)}`]);
    if (name === 'q')
      cases.push(['q: 14 KB of search operators', `q=${encodeURIComponent(fill('"a" -b or ', HEAD / 3))}`]);
  }
  return cases;
}

const HEADER_CASES: [string, Record<string, string>][] = [
  ['a 14 KB Range of spaces', { Range: `bytes=${fill(' ', HEAD)}x` }],
  ['If-None-Match with 2,000 tags', { 'If-None-Match': items('"123456"', 1_900) }],
  ['If-Match with 2,000 tags', { 'If-Match': items('"123456"', 1_900) }],
  ['a 14 KB X-Request-Id', { 'X-Request-Id': fill('a', HEAD) }],
  ['a 14 KB Idempotency-Key', { 'Idempotency-Key': fill('k', HEAD) }],
  ['a 14 KB Accept', { Accept: fill('text/html;q=0.1, ', HEAD) }],
];

/** A ZIP whose central directory is as large as the sniffer reads: 9,999 entries, just under 1 MiB. */
function bigZip(): Buffer {
  const entries: [string, string][] = [['[Content_Types].xml', '<Types/>']];
  for (let i = 0; i < 9_998; i++) entries.push([`word/media/${String(i).padStart(40, '0')}.xml`, '']);
  entries.push(['word/document.xml', '<w:document/>']);
  return zip(entries);
}

describe(`no request blocks the event loop for more than ${BOUND_MS} ms`, () => {
  let server: ServerProcess;
  let t: TestApp;
  let world: World;
  let ops: Operation[];

  beforeAll(async () => {
    server = await startServerProcess({
      RATE_LIMIT_PER_MINUTE: '1000000',
      LOGIN_RATE_LIMIT_PER_IP: '1000000',
      LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000',
    });
    t = asTestApp(server);
    world = await createWorld(t);
    ops = await operations(t);
  }, 60_000);
  /** The slowest case of the run (its best time), reported for the record. */
  let worst = { what: 'none', delay: 0 };
  afterAll(async () => {
    process.stdout.write(
      `event loop: slowest case ${worst.what}, ${worst.delay.toFixed(0)} ms (bound ${BOUND_MS} ms)\n`,
    );
    await server.dispose();
  });

  /**
   * The server's longest event-loop delay since the last scrape, in ms. A scrape also resets the
   * histogram, and the first sample after a reset only starts the clock: wait two sampling
   * intervals (`armed`) before what is to be measured.
   */
  async function loopDelayMs(): Promise<number> {
    const text = (await t.http().get('/metrics').expect(200)).text;
    const max = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
    if (!max) throw new Error('no nodejs_eventloop_lag_max_seconds in /metrics');
    return Number(max[1]) * 1000;
  }

  /** Resets the server's histogram and lets it take its first sample. */
  async function armed(): Promise<void> {
    await loopDelayMs();
    await sleep(25);
  }

  /**
   * The longest the server's event loop was held while the request ran, in ms. Sent with fetch,
   * exactly as built (superagent re-encodes some bodies on its way).
   */
  async function measure(c: Case): Promise<{ delay: number; status: number }> {
    const headers: Record<string, string> = { ...bearer(world.admin.accessToken), ...c.headers };
    if (c.contentType) headers['Content-Type'] = c.contentType;
    await armed();
    const res = await fetch(`${server.url}${c.url}`, { method: c.method.toUpperCase(), headers, body: c.body });
    await res.arrayBuffer();
    await sleep(25); // past the sampling interval, so that a delay at the very end is recorded
    return { delay: await loopDelayMs(), status: res.status };
  }

  /**
   * Each case within the bound. A case over it is measured up to four times more and judged by
   * its best time: a request that blocks does so every time (the defects fixed here held the
   * loop for 0.1 to 26 s, each time), while a garbage collection that happens to fall inside the
   * window (1 MiB bodies make V8 collect its old space every few requests, 5 to 20 ms a pause) or
   * the process being scheduled out for a moment on a busy machine does not repeat itself.
   */
  async function expectBounded(cases: () => Case[]): Promise<void> {
    const over: string[] = [];
    let served = 0;
    for (const c of cases()) {
      const first = await measure(c);
      const status = first.status;
      let delay = first.delay;
      for (let retry = 0; retry < 4 && delay > BOUND_MS; retry++) delay = Math.min(delay, (await measure(c)).delay);
      expect({ what: c.what, status: status < 500 }).toEqual({ what: c.what, status: true });
      served++;
      if (delay > BOUND_MS) over.push(`${c.what}: ${delay.toFixed(0)} ms (${status})`);
      if (delay > worst.delay) worst = { what: c.what, delay };
    }
    expect(served).toBeGreaterThan(0);
    expect(over).toEqual([]);
  }

  /** Path parameters of writes point nowhere (a random id), so that a body that parses deletes nothing. */
  const writeUrl = (op: Operation) =>
    fillPath(
      op.path,
      op.method === 'delete' ? Object.fromEntries(Object.keys(world.ids).map((k) => [k, randomUUID()])) : world.ids,
    );

  it('the measurement sees the server held for 150 ms (the control: SIGSTOP, then SIGCONT)', async () => {
    await armed();
    server.child.kill('SIGSTOP');
    await sleep(150);
    server.child.kill('SIGCONT');
    await sleep(50);
    expect(await loopDelayMs()).toBeGreaterThanOrEqual(120);
    // ...and a plain request, right after, is far under the bound.
    const { delay } = await measure({ what: 'control', method: 'get', url: '/health/live' });
    expect(delay).toBeLessThan(BOUND_MS / 2);
  });

  it('worst-case JSON bodies on every writing route', async () => {
    const writes = ops.filter((op) => op.method !== 'get' && !op.bodyTypes.includes('multipart/form-data'));
    expect(writes.length).toBeGreaterThanOrEqual(25);
    for (const op of writes) {
      await expectBounded(() =>
        jsonBodies(op.bodyProperties).map(([what, body]) => ({
          what: `${op.label} ${what}`,
          method: op.method,
          url: writeUrl(op),
          contentType: 'application/json',
          body,
        })),
      );
    }
  }, 300_000);

  it('worst-case form bodies on every route that takes forms', async () => {
    const forms = ops.filter((op) => op.bodyTypes.includes('application/x-www-form-urlencoded'));
    expect(forms.map((op) => op.label)).toEqual(['POST /api/v1/auth/login', 'POST /api/v1/auth/token']);
    for (const op of forms) {
      await expectBounded(() =>
        formBodies(op.bodyProperties).map(([what, body]) => ({
          what: `${op.label} ${what}`,
          method: op.method,
          url: writeUrl(op),
          contentType: 'application/x-www-form-urlencoded',
          body,
        })),
      );
    }
  }, 120_000);

  it('worst-case query strings on every listing route', async () => {
    const lists = ops.filter((op) => op.method === 'get' && op.query.length > 0);
    expect(lists.length).toBeGreaterThanOrEqual(9);
    for (const op of lists) {
      await expectBounded(() =>
        queryStrings(op).map(([what, query]) => ({
          what: `${op.label} ${what}`,
          method: 'get',
          url: `${fillPath(op.path, world.ids)}?${query}`,
        })),
      );
    }
  }, 120_000);

  it('worst-case headers on every reading route, and on a write', async () => {
    const reads = ops.filter((op) => op.method === 'get');
    const patch = ops.find((op) => op.label === 'PATCH /api/v1/tasks/{taskId}')!;
    await expectBounded(() => [
      ...reads.flatMap((op) =>
        HEADER_CASES.map(([what, headers]) => ({
          what: `${op.label} ${what}`,
          method: op.method,
          url: fillPath(op.path, world.ids),
          headers,
        })),
      ),
      ...HEADER_CASES.map(([what, headers]) => ({
        what: `${patch.label} ${what}`,
        method: patch.method,
        url: fillPath(patch.path, world.ids),
        contentType: 'application/json',
        body: json('{"title": "x"}'),
        headers,
      })),
      {
        what: 'a 14 KB bearer token',
        method: 'get',
        url: '/api/v1/auth/me',
        headers: { Authorization: `Bearer ${fill('a', HEAD / 3)}.${fill('b', HEAD / 3)}.${fill('c', HEAD / 3)}` },
      },
      {
        what: 'a Content-Type with 8 KB of parameters',
        method: 'post',
        url: '/api/v1/orgs',
        contentType: `application/json; ${fill('a=b; ', 8 * 1024)}charset=utf-8`,
        body: json('{"name": "x"}'),
      },
    ]);
  }, 120_000);

  it('worst-case uploads on every upload route', async () => {
    const uploads = ops.filter((op) => op.bodyTypes.includes('multipart/form-data'));
    expect(uploads.map((op) => op.label).sort()).toEqual([
      'POST /api/v1/tasks/{taskId}/attachments',
      'PUT /api/v1/users/{id}/avatar',
    ]);
    const file = (body: Buffer, filename = 'file.bin') =>
      multipartBody([{ name: 'file', filename, contentType: 'application/octet-stream', body }]);
    await expectBounded(() =>
      uploads.flatMap((op) =>
        [
          { what: 'a 14 KB filename of ". "', body: file(PNG, `a${fill('. ', HEAD)}a.png`) },
          { what: 'a 14 KB filename of spaces then x', body: file(PNG, `${fill(' ', HEAD)}x`) },
          { what: 'a 10 MiB text file', body: file(Buffer.from(fill('line of text\n', 10 * MIB - 1024))) },
          { what: 'a ZIP whose central directory is just under 1 MiB', body: file(bigZip(), 'big.docx') },
          {
            what: 'a thousand tiny parts',
            body: multipartBody(Array.from({ length: 1000 }, (_, i) => ({ name: `f${i}`, body: 'x' }))),
          },
        ].map((c) => ({
          ...c,
          what: `${op.label} ${c.what}`,
          method: op.method,
          url: fillPath(op.path, world.ids),
          contentType: MULTIPART,
        })),
      ),
    );
  }, 120_000);
});
