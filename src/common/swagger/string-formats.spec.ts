import { JwtService } from '@nestjs/jwt';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { CreateApiKeyDto } from '../../api-keys/dto/api-key.dto';
import { RegisterDto } from '../../auth/dto/auth.dto';
import { CreateCommentDto } from '../../comments/dto/comment.dto';
import { CreateOrgDto } from '../../orgs/dto/org.dto';
import { CreateProjectDto } from '../../projects/dto/project.dto';
import { ListTasksQuery } from '../../tasks/dto/list-tasks.query';
import { ReplaceTaskDto } from '../../tasks/dto/task.dto';
import { ListUsersQuery } from '../../users/dto/list-users.query';
import { CreateWebhookDto } from '../../webhooks/dto/webhook.dto';
import { AppConfig } from '../../config/app-config';
import { parseEnvironment } from '../../config/env.schema';
import { BearerSecret } from '../auth/bearer-secret';
import { ApiException } from '../http/api-exception';
import { etagFor, parseIfMatch } from '../http/etag';
import { inspectBody } from '../http/input-inspection';
import { assignRequestId } from '../http/request-id';
import { parseRange } from '../http/stored-file.response';
import { createValidationPipe } from '../http/validation';
import { CursorPaginator, listScope } from '../pagination/cursor-paginator';
import { contentDisposition, sanitizeFilename } from '../uploads/filename';
import { CONTENT_DISPOSITION_MAX_LENGTH } from './file-response.decorator';
import { STRING_PATTERNS } from './string-formats';

type PatternName = keyof typeof STRING_PATTERNS;

/** As a JSON Schema validator reads `pattern` (ECMA-262, Unicode mode), unanchored unless the pattern anchors itself. */
const matches = (name: PatternName, value: string): boolean => new RegExp(STRING_PATTERNS[name], 'u').test(value);

const paginator = new CursorPaginator(
  new AppConfig({ env: parseEnvironment({}), databaseUrl: 'postgres://x', jwtSecret: 'string-formats-spec' }),
);
const SHA256_ETAG = `"${createHash('sha256').update('the bytes').digest('hex')}"`;

/** Real values for each pattern: made by the server's own code where it makes them. */
const EXAMPLES: Record<PatternName, string[]> = {
  text: ['Ada Lovelace', '', ' ', 'line one\nline two', 'émoji 😀 and 中文', 'a\tb'],
  nonBlankText: ['Ada Lovelace', 'a', ' padded ', '\n\tx', '😀', 'Reproduced on staging;\n\nfix in review.'],
  cursor: [
    paginator.encode(listScope('users', { sort: 'name' }), ['Ada Lovelace', randomUUID()]),
    paginator.encode(listScope('tasks', { q: 'ünïcode "quoted"' }), [null, randomUUID()]),
    paginator.encode('orgs', [new Date().toISOString(), randomUUID()]),
  ],
  requestId: [randomUUID(), 'client-req.42_x', 'a', 'x'.repeat(128)],
  jwt: [
    new JwtService({ secret: 'string-formats-spec' }).sign(
      { sub: randomUUID(), role: 'user', sid: randomUUID(), typ: 'access' },
      { expiresIn: 900, issuer: 'tasklane', audience: 'tasklane-api' },
    ),
  ],
  opaqueToken: Array.from({ length: 50 }, () => BearerSecret.generate()),
  entityTag: [etagFor(3), etagFor(123456789), SHA256_ETAG, 'W/"3"', '""'],
  entityTags: ['*', etagFor(3), `${etagFor(1)}, ${etagFor(2)},${etagFor(10)}`, 'W/"3"', `W/"1", ${SHA256_ETAG}`],
  byteRanges: ['bytes=0-1023', 'bytes=1024-', 'bytes=-500', 'Bytes=0-3', 'BYTES=0-0', 'bytes=0-1, 4-5', 'bytes=0-1,4-'],
  contentRange: ['bytes 0-1023/4096', 'bytes 0-0/1', 'bytes */4096'],
  contentDisposition: [
    contentDisposition('inline', 'avatar.png'),
    contentDisposition('attachment', 'report.pdf'),
    contentDisposition('attachment', sanitizeFilename('Quarterly "final" report (v2) 100%.xlsx', 'upload.bin')),
    contentDisposition('attachment', sanitizeFilename("back\\slash it's *a* ~test~!.txt", 'upload.bin')),
    contentDisposition('attachment', sanitizeFilename('Übersicht – 中文 😀.docx', 'upload.bin')),
    contentDisposition('attachment', sanitizeFilename('\u0000\u202e', 'upload.bin')),
  ],
  ipAddress: ['203.0.113.7', '127.0.0.1', '::1', '::ffff:127.0.0.1', '2001:db8::8a2e:370:7334'],
};

/** Obvious non-examples: what the server neither makes nor takes as such. */
const NON_EXAMPLES: Record<PatternName, string[]> = {
  text: ['a\u0000b', '\u0000'],
  nonBlankText: ['', ' ', '   ', '\t\n\r', '\u00a0\u2003\u3000\ufeff', 'a\u0000', '\u0000'],
  cursor: ['', 'abc', 'a.b.c', '.abc', 'abc.', 'a b.c', 'abc+/.def=', 'a.b\n'],
  requestId: ['', 'x'.repeat(129), 'has space', 'a/b', 'ümlaut', 'a\nb'],
  jwt: ['', 'a.b', 'a.b.', '.b.c', 'a.b.c.d', 'tl_3f9a1c0b7d2e_q9VwQwZ1m2lJk8Yx0c3RrT4uV5wX6yZ7aB8cD9eF0gH', 'a+b.c.d'],
  opaqueToken: ['', 'abc=', 'a+b/c', 'a.b', 'has space'],
  entityTag: ['3', "'3'", '"a"b"', '"3', 'W/3', 'w/"3"', '"3", "4"', '*'],
  entityTags: ['3', '"1" "2"', '*, "1"', '"1",', ', "1"', 'W/3', '**'],
  byteRanges: ['', 'bytes=', 'bytes=-', 'bytes=a-b', 'items=0-1', 'bytes 0-1', 'bytes=0-1,', 'bytes=1'],
  contentRange: ['', 'bytes 0-1023', 'bytes=0-1023/4096', 'bytes */*', 'items 0-1/2', 'bytes 0-/10'],
  contentDisposition: [
    '',
    'attachment',
    'attachment; filename=report.pdf',
    'form-data; name="file"; filename="a.txt"',
    `attachment; filename="a"b"; filename*=UTF-8''a`,
    `attachment; filename="a.txt"; filename*=UTF-8''a%2fb%2`,
    `attachment; filename="a.txt"; filename*=UTF-8''a b`,
  ],
  ipAddress: ['', 'localhost', 'example.com', '1.2.3.4 ', 'unknown'],
};

describe('STRING_PATTERNS', () => {
  it.each(Object.keys(STRING_PATTERNS) as PatternName[])(
    '%s compiles as a JavaScript RegExp with the u flag',
    (name) => {
      expect(() => new RegExp(STRING_PATTERNS[name], 'u')).not.toThrow();
      expect(STRING_PATTERNS[name].startsWith('^') && STRING_PATTERNS[name].endsWith('$')).toBe(true);
    },
  );

  it('has examples and non-examples for every pattern', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(Object.keys(STRING_PATTERNS).sort());
    expect(Object.keys(NON_EXAMPLES).sort()).toEqual(Object.keys(STRING_PATTERNS).sort());
  });

  const cases = (table: Record<PatternName, string[]>) =>
    (Object.keys(table) as PatternName[]).flatMap((name) => table[name].map((value) => [name, value] as const));

  it.each(cases(EXAMPLES))('%s matches %j', (name, value) => {
    expect(matches(name, value)).toBe(true);
  });

  it.each(cases(NON_EXAMPLES))('%s refuses %j', (name, value) => {
    expect(matches(name, value)).toBe(false);
  });

  it('text and nonBlankText take time linear in the input, whatever it holds', () => {
    for (const name of ['text', 'nonBlankText'] as const) {
      for (const hostile of [' '.repeat(200_000) + '\u0000', 'a'.repeat(200_000) + '\u0000', ' '.repeat(200_000)]) {
        const started = process.hrtime.bigint();
        matches(name, hostile);
        expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(100);
      }
    }
  });
});

describe('the patterns against what the server does', () => {
  it('nonBlankText is what trim-then-IsNotEmpty and Matches(/\\S/) accept, NUL aside', () => {
    const samples = ['', ' ', 'a', ' a ', '\u00a0', '\u2028x', '\ufeff', '\u180e', 'x\u0000', '\u0000 ', ' \t\r\n\v\f'];
    for (const value of samples) {
      const accepted = value.trim() !== '' && !value.includes('\u0000');
      expect({ value, matches: matches('nonBlankText', value) }).toEqual({ value, matches: accepted });
      expect(/\S/.test(value) && !value.includes('\u0000')).toBe(accepted);
    }
  });

  it('requestId is exactly what the server reuses of an incoming X-Request-Id', () => {
    const reused = (incoming: string): boolean => {
      const req = { headers: { 'x-request-id': incoming } } as unknown as IncomingMessage;
      const res = { setHeader: () => undefined } as unknown as ServerResponse;
      return assignRequestId(req, res) === incoming;
    };
    for (const value of [...EXAMPLES.requestId, ...NON_EXAMPLES.requestId, 'a:b', '🙂', '-'.repeat(128)]) {
      expect({ value, reused: reused(value) }).toEqual({ value, reused: matches('requestId', value) });
    }
    // The id the server makes when it makes one.
    const req = { headers: {} } as unknown as IncomingMessage;
    expect(
      matches('requestId', assignRequestId(req, { setHeader: () => undefined } as unknown as ServerResponse)),
    ).toBe(true);
  });

  it('a cursor the paginator makes decodes, and one that breaks the pattern never does', () => {
    const scope = listScope('users', { sort: 'name' });
    const cursor = paginator.encode(scope, ['Ada', randomUUID()]);
    expect(matches('cursor', cursor)).toBe(true);
    expect(() => paginator.decode(cursor, scope)).not.toThrow();
    for (const broken of NON_EXAMPLES.cursor) {
      expect(() => paginator.decode(broken, scope)).toThrow(ApiException);
    }
  });

  it('opaqueToken: the refresh, invitation and reset tokens are 43 base64url characters', () => {
    for (const token of EXAMPLES.opaqueToken) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('entityTags: If-Match of our ETags names their versions; `*` names none (any version)', () => {
    expect(parseIfMatch('*')).toBeUndefined();
    expect(parseIfMatch(etagFor(3))).toEqual([3]);
    expect(parseIfMatch(`${etagFor(1)}, ${etagFor(2)},${etagFor(10)}`)).toEqual([1, 2, 10]);
    // Well-formed tags that are not ours (weak, or not a version) are read, and match nothing.
    expect(parseIfMatch('W/"3"')).toEqual([]);
    expect(parseIfMatch(SHA256_ETAG)).toEqual([]);
  });

  it('byteRanges: a single range in the pattern is honoured; what breaks it is ignored (whole file), not refused', () => {
    for (const single of ['bytes=0-1023', 'bytes=1024-', 'bytes=-500', 'Bytes=0-3', 'BYTES=0-0']) {
      expect({ single, kind: parseRange(single, 4096).kind }).toEqual({ single, kind: 'part' });
    }
    for (const other of [...NON_EXAMPLES.byteRanges, 'bytes=0-1, 4-5']) {
      expect({ other, kind: parseRange(other, 4096).kind }).toEqual({ other, kind: 'whole' });
    }
  });

  it('contentDisposition: every filename the sanitizer lets through, within CONTENT_DISPOSITION_MAX_LENGTH', () => {
    const names = [
      'report.pdf',
      '😀'.repeat(500),
      `${'😀'.repeat(300)}.txt`,
      '中'.repeat(500),
      '"%\\'.repeat(100),
      '. . .',
      'a/b\\c:d*e?f"g<h>i|j.txt',
      String.fromCharCode(...Array.from({ length: 0x250 }, (_, i) => i)),
    ];
    for (const raw of names) {
      const header = contentDisposition('attachment', sanitizeFilename(raw, 'upload.bin'));
      expect({ raw, matches: matches('contentDisposition', header) }).toEqual({ raw, matches: true });
      expect(header.length).toBeLessThanOrEqual(CONTENT_DISPOSITION_MAX_LENGTH);
    }
    // The bound is reached: 200 code points outside the BMP.
    expect(contentDisposition('attachment', sanitizeFilename('😀'.repeat(500), 'x')).length).toBe(
      CONTENT_DISPOSITION_MAX_LENGTH,
    );
  });
});

/** The `pattern` @nestjs/swagger documents for a DTO property (or its array items). */
function documentedPattern(dto: object, property: string): string {
  const options = Reflect.getMetadata(
    'swagger/apiModelProperties',
    (dto as { prototype: object }).prototype,
    property,
  ) as { pattern?: string; items?: { pattern?: string } } | undefined;
  const pattern = options?.pattern ?? options?.items?.pattern;
  if (!pattern) throw new Error(`${(dto as { name: string }).name}.${property} documents no pattern`);
  return pattern;
}

/**
 * Whether the server takes `value` for `property` of `dto`: the input inspection every request
 * goes through (NUL, lone surrogates), then the DTO's own validation pipe, judged on that property
 * alone (the others are left out, and their problems ignored).
 */
async function serverTakes(dto: new () => unknown, property: string, value: unknown, where: 'body' | 'query') {
  const input = { [property]: value };
  if (inspectBody(input)) return false;
  try {
    await createValidationPipe().transform(input, { type: where, metatype: dto });
    return true;
  } catch (error) {
    if (!(error instanceof ApiException)) throw error;
    return !(error.details ?? []).some((d) => d.field === property || d.field.startsWith(`${property}.`));
  }
}

describe('documented patterns agree with the DTOs', () => {
  const SAMPLES = ['', ' ', '   ', 'Ada', '  Ada  ', 'a\u0000b', '\t\n', '\u00a0', 'x'.repeat(50), 'line\nline'];
  const FIELDS: [dto: new () => unknown, property: string, where: 'body' | 'query', array?: true][] = [
    [RegisterDto, 'name', 'body'],
    [CreateOrgDto, 'name', 'body'],
    [CreateProjectDto, 'name', 'body'],
    [CreateProjectDto, 'description', 'body'],
    [CreateApiKeyDto, 'name', 'body'],
    [ReplaceTaskDto, 'title', 'body'],
    [ReplaceTaskDto, 'description', 'body'],
    [ReplaceTaskDto, 'labels', 'body', true],
    [CreateCommentDto, 'body', 'body'],
    [CreateWebhookDto, 'description', 'body'],
    [ListUsersQuery, 'q', 'query'],
    [ListTasksQuery, 'q', 'query'],
    [ListTasksQuery, 'label', 'query'],
  ];

  it.each(FIELDS.map(([dto, property, where, array]) => [`${dto.name}.${property}`, dto, property, where, array]))(
    '%s: the pattern matches exactly the values the server takes',
    async (_name, dto, property, where, array) => {
      const pattern = new RegExp(documentedPattern(dto, property), 'u');
      for (const sample of SAMPLES) {
        const takes = await serverTakes(dto, property, array ? [sample] : sample, where);
        expect({ sample, documented: pattern.test(sample) }).toEqual({ sample, documented: takes });
      }
    },
  );
});
