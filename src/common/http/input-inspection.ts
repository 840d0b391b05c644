import { HttpStatus } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { ApiException } from './api-exception';

/**
 * The deepest nesting of arrays and objects accepted in a request body: far more than any request
 * of the API needs, far less than what overflows the stack when the body is turned into a DTO
 * (class-transformer recurses once per level and fails at one or two thousand levels, which a
 * 4 KB JSON body reaches).
 */
export const MAX_BODY_DEPTH = 64;

/**
 * The most values (arrays, objects, and the members and items that commas separate) a JSON body
 * may hold. JSON.parse alone takes ~60 ms on a 1 MiB body of 350,000 empty arrays, and ~5 ms on
 * an object of 10,000 keys, and everything after it (inspection, DTOs, validation) is
 * proportional to the count too; no request of the API needs more than a few dozen (a task with
 * 20 labels has about 30), so this is counted on the raw bytes, before parsing.
 */
export const MAX_JSON_VALUES = 2_000;

/**
 * Keys that name JavaScript's prototype machinery. JSON.parse makes them ordinary own properties,
 * but code that copies or merges objects (class-transformer, Object.assign into a prototype,
 * lodash-style merges) can turn them into prototype pollution; no request of the API has them.
 */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export type InputProblem =
  | { kind: 'forbidden-key'; field: string }
  | { kind: 'malformed-string'; field: string; reason: 'surrogate' | 'nul' | 'encoding' };

const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * What is wrong with a JSON text's structure, read from its bytes in one pass without parsing or
 * allocating: nested more than MAX_BODY_DEPTH deep, or more than `maxValues` values (arrays,
 * objects, and the members and items that commas separate), counted outside strings.
 */
export function jsonStructureProblem(
  json: Uint8Array,
  maxValues = MAX_JSON_VALUES,
): 'too-deep' | 'too-many-values' | undefined {
  let values = 0;
  let depth = 0;
  for (let i = 0; i < json.length; i++) {
    const byte = json[i];
    if (byte === QUOTE) {
      i = endOfString(json, i);
    } else if (byte === OPEN_BRACKET || byte === OPEN_BRACE) {
      if (++depth > MAX_BODY_DEPTH) return 'too-deep';
      if (++values > maxValues) return 'too-many-values';
    } else if (byte === CLOSE_BRACKET || byte === CLOSE_BRACE) {
      depth--;
    } else if (byte === COMMA && ++values > maxValues) {
      return 'too-many-values';
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `open` (found natively, escapes skipped). */
function endOfString(json: Uint8Array, open: number): number {
  let close = open;
  for (;;) {
    close = json.indexOf(QUOTE, close + 1);
    if (close < 0) return json.length;
    let backslashes = 0;
    while (json[close - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return close;
  }
}

/**
 * body-parser's `verify` for JSON, run on the raw bytes before they are parsed: UTF-8 only (RFC
 * 8259 §8.1; the scan reads bytes as UTF-8), nested at most MAX_BODY_DEPTH deep (400
 * MALFORMED_BODY) and at most MAX_JSON_VALUES values (413).
 */
export function limitJsonBody(_req: unknown, _res: unknown, body: Buffer, encoding: string | null): void {
  if (encoding !== null && encoding.toLowerCase() !== 'utf-8' && encoding.toLowerCase() !== 'utf8') {
    throw Object.assign(new Error('JSON must be UTF-8'), { status: 415, type: 'charset.unsupported' });
  }
  const problem = jsonStructureProblem(body);
  if (problem === 'too-deep') {
    throw Object.assign(new Error(`The JSON body is nested more than ${MAX_BODY_DEPTH} levels deep`), {
      status: 400,
      type: 'entity.too.deep',
    });
  }
  if (problem === 'too-many-values') {
    throw Object.assign(new Error(`The JSON body holds more than ${MAX_JSON_VALUES} values`), {
      status: 413,
      type: 'entity.too.many.values',
    });
  }
}

/**
 * body-parser's `verify` for forms, on the raw body: the same checks as a query string (UTF-8
 * percent-encoding, no NUL), and no prototype-named field, which the `qs` parser would drop
 * without a word (`__proto__`) instead of letting validation name it.
 */
export function limitFormBody(_req: unknown, _res: unknown, body: Buffer): void {
  const problem = inspectQuery(body.toString('latin1'), true);
  if (problem) throw inputProblemError(problem);
}

/** Well-formed: no lone UTF-16 surrogate (ES2024's isWellFormed, in Node since 20). */
const isWellFormed = (text: string): boolean => (text as unknown as { isWellFormed(): boolean }).isWellFormed();

function stringProblem(text: string): 'surrogate' | 'nul' | undefined {
  if (!isWellFormed(text)) return 'surrogate';
  if (text.includes('\u0000')) return 'nul';
  return undefined;
}

interface Pending {
  value: object;
  /** Its key in its parent (an index in an array). */
  key: string | number;
  parent: Pending | undefined;
}

function pathOf(entry: Pending | undefined, last?: string | number): string {
  const parts: (string | number)[] = last === undefined ? [] : [last];
  for (let at = entry; at?.parent !== undefined; at = at.parent) parts.push(at.key);
  return parts.reverse().join('.');
}

/**
 * The first problem of a parsed body, or undefined: a prototype-named key at any depth, or a
 * string (value or key) that PostgreSQL cannot store as it was sent: a lone surrogate (stored as
 * U+FFFD in text, refused by jsonb) or a NUL. One pass over the body, each value visited once,
 * without recursion; only objects and arrays are queued. (Depth was bounded before parsing: JSON
 * by jsonStructureProblem, forms by their flat parser.)
 */
export function inspectBody(body: unknown): InputProblem | undefined {
  if (typeof body === 'string') {
    const reason = stringProblem(body);
    return reason ? { kind: 'malformed-string', field: '', reason } : undefined;
  }
  if (body === null || typeof body !== 'object') return undefined;
  const pending: Pending[] = [{ value: body, key: '', parent: undefined }];
  while (pending.length > 0) {
    const entry = pending.pop()!;
    let problem: InputProblem | undefined;
    if (Array.isArray(entry.value)) {
      const array = entry.value as unknown[];
      for (let i = 0; i < array.length && !problem; i++) problem = visit(array[i], i, entry, pending);
    } else {
      const object = entry.value as Record<string, unknown>;
      for (const key of Object.keys(object)) {
        if (FORBIDDEN_KEYS.has(key)) return { kind: 'forbidden-key', field: pathOf(entry, key) };
        const reason = stringProblem(key);
        if (reason) return { kind: 'malformed-string', field: pathOf(entry, key), reason };
        problem = visit(object[key], key, entry, pending);
        if (problem) break;
      }
    }
    if (problem) return problem;
  }
  return undefined;
}

/** Checks a string value at once; queues an object or array. */
function visit(child: unknown, key: string | number, parent: Pending, pending: Pending[]): InputProblem | undefined {
  if (typeof child === 'string') {
    const reason = stringProblem(child);
    return reason ? { kind: 'malformed-string', field: pathOf(parent, key), reason } : undefined;
  }
  if (child !== null && typeof child === 'object') pending.push({ value: child, key, parent });
  return undefined;
}

/**
 * The first problem of a raw query string: a name or value whose percent-encoding is not UTF-8
 * (Node's parser would turn it into U+FFFD silently), or that decodes to a NUL. Lone surrogates
 * cannot be percent-encoded in UTF-8, so this covers them too.
 */
export function inspectQuery(query: string, refuseForbiddenNames = false): InputProblem | undefined {
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const equals = pair.indexOf('=');
    const rawName = equals < 0 ? pair : pair.slice(0, equals);
    let name = rawName;
    for (const part of equals < 0 ? [rawName] : [rawName, pair.slice(equals + 1)]) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        return { kind: 'malformed-string', field: safeName(name), reason: 'encoding' };
      }
      if (part === rawName) {
        name = decoded;
        if (refuseForbiddenNames && FORBIDDEN_KEYS.has(name)) return { kind: 'forbidden-key', field: name };
      }
      if (decoded.includes('\u0000')) return { kind: 'malformed-string', field: safeName(name), reason: 'nul' };
    }
  }
  return undefined;
}

/** A parameter name fit to be echoed in an error: at most 64 visible characters. */
function safeName(name: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what is removed
  return name.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 64) || '(query)';
}

const MESSAGES: Record<'surrogate' | 'nul' | 'encoding', string> = {
  surrogate: 'must be well-formed Unicode (it holds a lone UTF-16 surrogate)',
  nul: 'must not contain the NUL character (\\u0000)',
  encoding: 'must be percent-encoded UTF-8',
};

export function inputProblemError(problem: InputProblem): ApiException {
  switch (problem.kind) {
    case 'forbidden-key':
      return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request validation failed', [
        { field: problem.field, message: `property ${problem.field} should not exist` },
      ]);
    case 'malformed-string': {
      const field = problem.field || 'body';
      return new ApiException(HttpStatus.BAD_REQUEST, 'VALIDATION_FAILED', 'Request validation failed', [
        { field, message: `${field} ${MESSAGES[problem.reason]}` },
      ]);
    }
  }
}

/**
 * Express middleware, right after the body parsers: a query string or a parsed body (JSON or
 * form) with one of the problems above is refused before any route, guard or DTO sees it.
 */
export function inspectRequestInput(req: Request, _res: Response, next: NextFunction): void {
  const url = req.url;
  const question = url.indexOf('?');
  const problem = (question >= 0 ? inspectQuery(url.slice(question + 1)) : undefined) ?? inspectBody(req.body);
  next(problem ? inputProblemError(problem) : undefined);
}
