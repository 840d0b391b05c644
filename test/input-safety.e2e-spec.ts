import { Controller, Get, Module, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Public } from '../src/common/decorators/public.decorator';
import { expectData, expectError, expectItems, expectValidationFailed } from './support/envelope';
import { createWorld, fillPath, Operation, operations, SchemaObject, World } from './support/route-catalog';
import { createTestApp, TestApp } from './support/test-app';
import { bearer } from './support/users';

// Input that JSON, forms and query strings can carry but Tasklane must never take as it is:
// prototype-named keys, malformed Unicode and NUL characters, and date and time strings outside
// the documented formats. Every operation of the OpenAPI document is tried, so that a new route
// is covered as soon as it exists.

/** Test-only routes: what the database does with values that validation did not stop. */
@ApiExcludeController()
@Public()
@Controller('test-input')
class InputTestController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Hands the value to PostgreSQL as a timestamp, unchecked. */
  @Get('timestamp')
  timestamp(@Query('value') value: string): Promise<unknown> {
    return this.dataSource.query('SELECT $1::timestamptz AS at', [value]);
  }

  /** A bug: an error PostgreSQL raises about the statement itself, with a parameter that must not be logged. */
  @Get('division')
  division(): Promise<unknown> {
    return this.dataSource.query('SELECT length($1::text) / 0 AS boom', [LOGGED_NOWHERE]);
  }
}

/** Stands for a password hash or an email in a statement's parameters. */
const LOGGED_NOWHERE = 'parameter-that-must-not-be-logged';

@Module({ controllers: [InputTestController] })
class InputTestModule {}

const structured = (op: Operation) =>
  op.bodyTypes.includes('application/json') || op.bodyTypes.includes('application/x-www-form-urlencoded');

/** The string fields of a body (arrays of strings by their first item). */
function stringFields(properties: Record<string, SchemaObject>): { name: string; array: boolean }[] {
  return Object.entries(properties).flatMap(([name, schema]): { name: string; array: boolean }[] => {
    if (schema.type === 'array' && (schema.items?.type === 'string' || schema.items?.enum))
      return [{ name, array: true }];
    if (schema.type === 'string' || schema.enum) return [{ name, array: false }];
    return [];
  });
}

describe('input safety: prototype keys, malformed Unicode, NUL, dates', () => {
  let t: TestApp;
  let world: World;
  let ops: Operation[];

  beforeAll(async () => {
    t = await createTestApp({ imports: [InputTestModule], captureLogs: true });
    world = await createWorld(t);
    ops = await operations(t);
  });
  afterAll(() => t.close());

  /** Sends a raw body, as the admin (who may reach every route). */
  const send = (op: Operation, body: string, contentType = 'application/json') =>
    t
      .http()
      [op.method](fillPath(op.path, world.ids))
      .set(bearer(world.admin.accessToken))
      .set('Content-Type', contentType)
      .send(body);

  const counts = async () => {
    const [row] = await t.dataSource.query(
      `SELECT (SELECT count(*) FROM tasks)::int AS tasks, (SELECT count(*) FROM comments)::int AS comments,
              (SELECT count(*) FROM audit_events)::int AS audit, (SELECT count(*) FROM projects)::int AS projects,
              (SELECT count(*) FROM orgs)::int AS orgs, (SELECT count(*) FROM users)::int AS users`,
    );
    return row as Record<string, number>;
  };

  it('covers every operation that takes a JSON or form body', () => {
    const withBodies = ops.filter(structured).map((op) => op.label);
    expect(withBodies.length).toBeGreaterThanOrEqual(20);
    expect(withBodies).toEqual(expect.arrayContaining(['POST /api/v1/auth/token', 'PATCH /api/v1/tasks/{taskId}']));
  });

  // -------------------------------------------------------------------------------------------
  describe('prototype-named keys are unknown properties, named, at any depth (§3)', () => {
    const bodies: [string, (key: string) => string, (key: string) => string][] = [
      ['at the top', (key) => `{"${key}": {"polluted": true}, "title": "x"}`, (key) => key],
      ['inside an object value', (key) => `{"title": {"${key}": {"polluted": true}}}`, (key) => `title.${key}`],
      ['inside an array', (key) => `{"labels": ["a", {"${key}": 1}]}`, (key) => `labels.1.${key}`],
      [
        'written with a \\u escape',
        (key) => `{"\\u00${key.charCodeAt(0).toString(16)}${key.slice(1)}": 1}`,
        (key) => key,
      ],
    ];

    it.each(['__proto__', 'constructor', 'prototype'])('%s: 400 on every JSON route, nothing written', async (key) => {
      const before = await counts();
      for (const op of ops.filter((o) => o.bodyTypes.includes('application/json'))) {
        for (const [where, body, field] of bodies) {
          const res = await send(op, body(key));
          const error = expectValidationFailed(res, [field(key)]);
          expect({ op: op.label, where, details: error.details }).toEqual({
            op: op.label,
            where,
            details: [{ field: field(key), message: `property ${field(key)} should not exist` }],
          });
        }
      }
      expect(await counts()).toEqual(before);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('%s in a form body: 400 naming it', async (key) => {
      for (const op of ops.filter((o) => o.bodyTypes.includes('application/x-www-form-urlencoded'))) {
        const res = await send(op, `${key}=x&email=a%40example.com`, 'application/x-www-form-urlencoded');
        expectValidationFailed(res, [key]);
      }
    });

    it('the same keys as values, or inside longer names, are ordinary data', async () => {
      const task = expectData(
        await send(
          ops.find((o) => o.label === 'POST /api/v1/projects/{projectId}/tasks')!,
          JSON.stringify({ title: '__proto__', description: 'constructor.prototype', labels: ['prototype'] }),
        ),
        201,
      );
      expect(task).toMatchObject({ title: '__proto__', description: 'constructor.prototype', labels: ['prototype'] });
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  it('names unknown keys of any length within the documented lengths (field 256, message 1024)', async () => {
    const long = (n: number) => `zz${n}${'x'.repeat(20_000)}`;
    const body = JSON.stringify(Object.fromEntries([1, 2, 3].map((n) => [long(n), 1])));
    for (const op of ops.filter((o) => o.bodyTypes.includes('application/json'))) {
      const error = expectError(await send(op, body), 400, 'VALIDATION_FAILED');
      const named = (error.details ?? []).filter((d) => d.field.startsWith('zz'));
      expect({ op: op.label, named: named.map((d) => d.field.slice(0, 3)) }).toEqual({
        op: op.label,
        named: ['zz1', 'zz2', 'zz3'],
      });
      for (const detail of named) {
        expect({ op: op.label, field: detail.field.length <= 256, message: detail.message.length <= 1024 }).toEqual({
          op: op.label,
          field: true,
          message: true,
        });
        expect(detail.field).toMatch(/^zz\dx+…$/);
        expect(detail.message).toBe(`property ${detail.field} should not exist`);
      }
    }
    const form = [1, 2, 3, 4, 5].map((n) => `${long(n)}=1`).join('&') + '&grant_type=password';
    const token = await send(
      ops.find((o) => o.label === 'POST /api/v1/auth/token')!,
      form,
      'application/x-www-form-urlencoded',
    );
    expect(token.status).toBe(400);
    expect(token.body).toMatchObject({ error: 'invalid_request' });
    expect((token.body as { error_description: string }).error_description.length).toBeLessThanOrEqual(1024);
  });

  it('keeps an error message within 1024 characters when it names a long path', async () => {
    const res = await t.http().get(`/nope/${'p'.repeat(6_000)}`);
    const error = expectError(res, 404, 'NOT_FOUND');
    expect(error.message.length).toBeLessThanOrEqual(1024);
    expect(error.message).toMatch(/^No route for GET \/nope\/p+…$/);
  });

  // -------------------------------------------------------------------------------------------
  describe('lone surrogates and NUL characters: 400 naming the field, nothing written', () => {
    // [label, as a JSON string, as a form value, what the message says]
    const cases: [string, string, string, string][] = [
      ['a lone high surrogate', '"a\\ud800b"', 'a%ED%A0%80b', 'lone UTF-16 surrogate'],
      ['a lone low surrogate', '"\\udc00"', '%ED%B0%80', 'lone UTF-16 surrogate'],
      ['surrogates in the wrong order', '"\\ude00\\ud83d"', '%ff', 'lone UTF-16 surrogate'],
      ['a NUL', '"a\\u0000b"', 'a%00b', 'NUL'],
    ];

    it.each(cases)('%s in every string field of every JSON and form route', async (_label, json, form, message) => {
      const before = await counts();
      let tried = 0;
      for (const op of ops.filter(structured)) {
        for (const { name, array } of stringFields(op.bodyProperties)) {
          const isJson = op.bodyTypes.includes('application/json');
          const field = array ? `${name}.1` : name;
          // A form cannot carry a lone surrogate: its UTF-8 percent-encoding is invalid, refused alike.
          const expected = isJson || message === 'NUL' ? message : 'percent-encoded UTF-8';
          const body = isJson ? `{"${name}": ${array ? `["ok", ${json}]` : json}}` : `${name}=${form}`;
          const res = await send(op, body, isJson ? 'application/json' : 'application/x-www-form-urlencoded');
          const error = expectValidationFailed(res, [isJson ? field : name]);
          expect({ op: op.label, message: error.details![0].message }).toEqual({
            op: op.label,
            message: expect.stringContaining(expected),
          });
          tried++;
        }
      }
      expect(tried).toBeGreaterThan(30);
      expect(await counts()).toEqual(before);
    });

    it('a lone surrogate in a key is refused too', async () => {
      const op = ops.find((o) => o.label === 'POST /api/v1/orgs')!;
      expectValidationFailed(await send(op, '{"name": "x", "n\\ud800": 1}'), ['n\ud800']);
    });

    it('an audited update with a lone surrogate is a 400, not a 500, and changes nothing', async () => {
      const url = `/api/v1/tasks/${world.ids.taskId}`;
      const before = expectData<{ version: number; title: string }>(
        await t.http().get(url).set(bearer(world.admin.accessToken)),
      );
      const audit = (await counts()).audit;
      const res = await t
        .http()
        .patch(url)
        .set(bearer(world.admin.accessToken))
        .set('Content-Type', 'application/json')
        .send('{"title": "c\\ud800d", "description": "fine"}');
      expectValidationFailed(res, ['title']);
      const after = expectData<{ version: number; title: string }>(
        await t.http().get(url).set(bearer(world.admin.accessToken)),
      );
      expect(after).toEqual(before);
      expect((await counts()).audit).toBe(audit);
    });

    it('a pair that forms one character (an emoji) is accepted and stored as sent', async () => {
      const op = ops.find((o) => o.label === 'POST /api/v1/tasks/{taskId}/comments')!;
      const comment = expectData<{ body: string }>(await send(op, '{"body": "ok \\ud83d\\ude00"}'), 201);
      expect(comment.body).toBe('ok \u{1f600}');
    });

    describe('query strings', () => {
      const lists = () => ops.filter((o) => o.method === 'get' && o.query.length > 0);
      const get = (op: Operation, query: string) =>
        t
          .http()
          .get(`${fillPath(op.path, world.ids)}?${query}`)
          .set(bearer(world.admin.accessToken));

      it.each([
        ['an encoded lone surrogate (not UTF-8)', '%ED%A0%80', 'percent-encoded UTF-8'],
        ['a byte that is never UTF-8', 'a%FFb', 'percent-encoded UTF-8'],
        ['a cut-off sequence', '%C3', 'percent-encoded UTF-8'],
        ['a NUL', 'a%00b', 'NUL'],
      ])('%s in any parameter of any list: 400 naming the parameter', async (_label, value, message) => {
        for (const op of lists()) {
          for (const { name } of op.query) {
            const res = await get(op, `${name}=${value}`);
            const error = expectValidationFailed(res, [name]);
            expect(error.details![0].message).toContain(message);
          }
        }
      });

      it('in a parameter name too', async () => {
        const op = lists()[0];
        expectValidationFailed(await get(op, '%FFname=1'), ['%FFname']);
      });

      it('well-formed UTF-8, percent-encoded or with +, is searched for as sent', async () => {
        const as = bearer(world.admin.accessToken);
        const project = `/api/v1/projects/${world.ids.projectId}/tasks`;
        await t.http().post(project).set(as).send({ title: 'Fête de la musique' }).expect(201);
        const found = expectItems<{ title: string }>(await t.http().get(`${project}?q=f%C3%AAte+de`).set(as));
        expect(found.map((task) => task.title)).toEqual(['Fête de la musique']);
      });
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('dates and times: exactly the documented formats', () => {
    const audit = (query: string) =>
      t.http().get(`/api/v1/orgs/${world.ids.orgId}/audit-events?${query}`).set(bearer(world.admin.accessToken));
    const tasks = (query: string) =>
      t.http().get(`/api/v1/projects/${world.ids.projectId}/tasks?${query}`).set(bearer(world.admin.accessToken));

    it.each([
      ['an ISO week date', '2026-W01-1'],
      ['an ISO week date with a time', '2026-W01-1T10:00:00Z'],
      ['an ordinal date', '2026-001T00:00:00Z'],
      ['a date alone', '2026-11-23'],
      ['hours only', '2026-11-23T10Z'],
      ['no seconds', '2026-11-23T10:00Z'],
      ['no offset', '2026-11-23T10:00:00'],
      ['a 7-digit fraction', '2026-11-23T10:00:00.1234567Z'],
      ['a 30-digit fraction', `2026-11-23T10:00:00.${'1'.repeat(30)}Z`],
      ['a comma as decimal sign', '2026-11-23T10:00:00,5Z'],
      ['year 0000', '0000-01-01T00:00:00Z'],
      ['a five-digit year', '+10000-01-01T00:00:00Z'],
      ['February 29 of a common year', '2026-02-29T00:00:00Z'],
      ['hour 24', '2026-11-23T24:00:00Z'],
      ['a leap second', '2026-12-31T23:59:60Z'],
      ['an offset over 14 hours', '2026-11-23T10:00:00+15:00'],
      ['an offset of 14:30', '2026-11-23T10:00:00+14:30'],
      ['an offset without a colon', '2026-11-23T10:00:00+0200'],
      ['a space instead of T', '2026-11-23 10:00:00Z'],
      ['words', 'yesterday'],
    ])('since and until refuse %s: 400 naming them', async (_label, value) => {
      for (const name of ['since', 'until']) {
        const res = await audit(`${name}=${encodeURIComponent(value)}`);
        expectValidationFailed(res, [name]);
      }
    });

    it.each([
      ['UTC', '2026-11-23T10:00:00Z'],
      ['milliseconds', '2026-11-23T10:00:00.000Z'],
      ['microseconds', '2026-11-23T10:00:00.123456Z'],
      ['an offset', '2026-11-23T10:00:00+05:30'],
      ['the largest offset', '2026-11-23T10:00:00-14:00'],
      ['lower-case t and z (RFC 3339)', '2026-11-23t10:00:00z'],
      ['the first year', '0001-01-01T00:00:00Z'],
      ['February 29 of a leap year', '2024-02-29T12:00:00Z'],
    ])('since and until accept %s', async (_label, value) => {
      for (const name of ['since', 'until']) expectItems(await audit(`${name}=${encodeURIComponent(value)}`));
    });

    it.each([
      ['year 0000', '0000-01-01'],
      ['February 29 of a common year', '2026-02-29'],
      ['April 31', '2026-04-31'],
      ['month 13', '2026-13-01'],
      ['single digits', '2026-1-1'],
      ['a five-digit year', '10000-01-01'],
      ['a date and time', '2026-11-23T00:00:00Z'],
      ['an ISO week date', '2026-W01-1'],
    ])('dueBefore, dueAfter and dueDate refuse %s: 400 naming them', async (_label, value) => {
      for (const name of ['dueBefore', 'dueAfter']) expectValidationFailed(await tasks(`${name}=${value}`), [name]);
      const res = await t
        .http()
        .post(`/api/v1/projects/${world.ids.projectId}/tasks`)
        .set(bearer(world.admin.accessToken))
        .send({ title: 'Dated', dueDate: value });
      expectValidationFailed(res, ['dueDate']);
    });

    it('dates of the years 0001 to 9999 are accepted, February 29 of leap years included', async () => {
      for (const value of ['0001-01-01', '2024-02-29', '9999-12-31']) {
        expectItems(await tasks(`dueBefore=${value}&dueAfter=0001-01-01`));
        const res = await t
          .http()
          .post(`/api/v1/projects/${world.ids.projectId}/tasks`)
          .set(bearer(world.admin.accessToken))
          .send({ title: 'Dated', dueDate: value });
        expect(expectData<{ dueDate: string }>(res, 201).dueDate).toBe(value);
      }
    });

    it('a value the database still refuses as a date or time is a 400, not a 500', async () => {
      for (const value of ['2026-W01-1', 'not a time', '2026-01-01T00:00:00+23:59']) {
        const res = await t.http().get(`/api/v1/test-input/timestamp?value=${encodeURIComponent(value)}`);
        expectError(res, 400, 'VALIDATION_FAILED');
        expect(JSON.stringify(res.body)).not.toMatch(/timestamp|syntax|displacement|22007|22008|22009/);
      }
      expectData(await t.http().get('/api/v1/test-input/timestamp?value=2026-01-01T00:00:00Z'));
    });
  });

  // -------------------------------------------------------------------------------------------
  describe('error logs', () => {
    it('carry code, message, stack and request id, never the SQL text or its parameters', async () => {
      t.logs.length = 0;
      const res = await t.http().get('/api/v1/test-input/division').set('X-Request-Id', 'log-check-1');
      expectError(res, 500, 'INTERNAL');
      const line = t.logs.find((l) => l.msg === 'Unhandled error' && l.requestId === 'log-check-1');
      expect(line).toBeDefined();
      expect(Object.keys(line!.err as object).sort()).toEqual(['code', 'message', 'stack', 'type']);
      expect(line!.err).toMatchObject({ type: 'QueryFailedError', code: '22012', message: 'division by zero' });
      const everything = JSON.stringify(t.logs);
      expect(everything).not.toContain(LOGGED_NOWHERE);
      expect(everything).not.toContain('SELECT length');
      expect(everything).not.toMatch(/"(query|parameters|driverError)"/);
    });

    it('a value the database refuses is logged as a warning the same way (it means validation missed it)', async () => {
      t.logs.length = 0;
      await t.http().get('/api/v1/test-input/timestamp?value=2026-W01-1').set('X-Request-Id', 'log-check-2');
      const line = t.logs.find((l) => l.requestId === 'log-check-2' && l.level === 40);
      expect(line).toBeDefined();
      expect(Object.keys(line!.err as object).sort()).toEqual(['code', 'message', 'stack', 'type']);
      expect(JSON.stringify(t.logs)).not.toContain('$1::timestamptz');
    });
  });
});
