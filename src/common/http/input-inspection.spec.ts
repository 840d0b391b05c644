import { inspectBody, inspectQuery, jsonStructureProblem, MAX_BODY_DEPTH } from './input-inspection';

const bytes = (text: string) => Buffer.from(text, 'utf8');

describe('jsonStructureProblem (raw bytes, before parsing)', () => {
  it('counts arrays, objects and the values commas separate', () => {
    expect(jsonStructureProblem(bytes('[1,2,3]'), 3)).toBeUndefined(); // [ and two commas
    expect(jsonStructureProblem(bytes('[1,2,3,4]'), 3)).toBe('too-many-values');
    expect(jsonStructureProblem(bytes('{"a":{"b":[]}}'), 3)).toBeUndefined();
    expect(jsonStructureProblem(bytes('{"a":{"b":[{}]}}'), 3)).toBe('too-many-values');
  });

  it('ignores what is inside strings: brackets, commas, escaped quotes and backslashes', () => {
    expect(jsonStructureProblem(bytes('{"a":"[[[,,,{{{"}'), 1)).toBeUndefined();
    expect(jsonStructureProblem(bytes('{"a":"say \\"[,]\\" twice"}'), 1)).toBeUndefined();
    // An escaped backslash before the closing quote: the string ends there, what follows counts.
    expect(jsonStructureProblem(bytes('["a\\\\",[],[]]'), 2)).toBe('too-many-values');
    expect(jsonStructureProblem(bytes('["a\\\\\\"",[]]'), 3)).toBeUndefined();
    // A string that never closes hides the rest (JSON.parse then refuses the body).
    expect(jsonStructureProblem(bytes('["open,[,[,['), 1)).toBeUndefined();
  });

  it(`refuses nesting deeper than ${MAX_BODY_DEPTH} levels, counted the same way`, () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    expect(jsonStructureProblem(bytes(nested(MAX_BODY_DEPTH)))).toBeUndefined();
    expect(jsonStructureProblem(bytes(nested(MAX_BODY_DEPTH + 1)))).toBe('too-deep');
    expect(jsonStructureProblem(bytes(`[${'[]'.repeat(1000)}]`))).toBeUndefined(); // wide is not deep
    expect(jsonStructureProblem(bytes(`["${'['.repeat(100)}"]`))).toBeUndefined();
  });
});

describe('inspectBody (the parsed body)', () => {
  it('finds prototype-named keys at any depth, by path', () => {
    expect(inspectBody(JSON.parse('{"__proto__": 1}'))).toEqual({ kind: 'forbidden-key', field: '__proto__' });
    expect(inspectBody(JSON.parse('{"a": [0, {"constructor": 1}]}'))).toEqual({
      kind: 'forbidden-key',
      field: 'a.1.constructor',
    });
    expect(inspectBody({ a: { prototype: 1 } })).toEqual({ kind: 'forbidden-key', field: 'a.prototype' });
    expect(inspectBody({ a: '__proto__', b: ['constructor'] })).toBeUndefined();
  });

  it('finds lone surrogates and NUL in values and keys', () => {
    expect(inspectBody({ title: 'a\ud800' })).toEqual({
      kind: 'malformed-string',
      field: 'title',
      reason: 'surrogate',
    });
    expect(inspectBody({ l: ['ok', '\udc00x'] })).toEqual({
      kind: 'malformed-string',
      field: 'l.1',
      reason: 'surrogate',
    });
    expect(inspectBody({ ['k\u0000']: 1 })).toEqual({ kind: 'malformed-string', field: 'k\u0000', reason: 'nul' });
    expect(inspectBody({ emoji: '\u{1f600}', text: 'été' })).toBeUndefined();
    expect(inspectBody('a\ud800')).toEqual({ kind: 'malformed-string', field: '', reason: 'surrogate' });
  });

  it('leaves other values alone', () => {
    for (const body of [undefined, null, 5, true, {}, [], { a: [1, null, { b: false }] }]) {
      expect(inspectBody(body)).toBeUndefined();
    }
  });
});

describe('inspectQuery (the raw query string)', () => {
  it('accepts UTF-8 percent-encoding and +', () => {
    expect(inspectQuery('q=f%C3%AAte+de&status=todo,done&&flag')).toBeUndefined();
  });

  it('refuses percent-encoding that is not UTF-8, or a NUL, naming the parameter', () => {
    expect(inspectQuery('ok=1&q=%ED%A0%80')).toEqual({ kind: 'malformed-string', field: 'q', reason: 'encoding' });
    expect(inspectQuery('q=%C3')).toEqual({ kind: 'malformed-string', field: 'q', reason: 'encoding' });
    expect(inspectQuery('q=a%00')).toEqual({ kind: 'malformed-string', field: 'q', reason: 'nul' });
    expect(inspectQuery('%FF=1')).toEqual({ kind: 'malformed-string', field: '%FF', reason: 'encoding' });
  });

  it('refuses prototype-named fields when asked (forms)', () => {
    expect(inspectQuery('__proto__=1')).toBeUndefined();
    expect(inspectQuery('a=1&__proto__=1', true)).toEqual({ kind: 'forbidden-key', field: '__proto__' });
    expect(inspectQuery('%5F_proto__=1', true)).toEqual({ kind: 'forbidden-key', field: '__proto__' });
  });
});
