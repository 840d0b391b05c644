import type { Response } from 'supertest';
import type { ErrorBody } from './bodies';

// The response envelope (API.md §2) and the HTTP conventions every resource shares: one
// assertion helper per kind of answer, each checking the whole envelope, not just the status.

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
export const JSON_UTF8 = 'application/json; charset=utf-8';

export const etag = (version: number): string => `"${version}"`;

/** Status first, with the body in the failure message. */
export function expectStatus(res: Response, status: number): void {
  expect({ status: res.status, body: res.body as unknown }).toMatchObject({ status });
}

/** JSON, with an X-Request-Id header: returns the request id. */
function expectJsonWithRequestId(res: Response): string {
  expect(res.headers['content-type']).toBe(JSON_UTF8);
  const requestId = res.headers['x-request-id'];
  expect(typeof requestId).toBe('string');
  return requestId as string;
}

/** A success envelope with a single resource, `{data, meta: {requestId}}`: returns `data`. */
export function expectData<T = Record<string, unknown>>(res: Response, status = 200): T {
  expectStatus(res, status);
  const requestId = expectJsonWithRequestId(res);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'meta']);
  expect(res.body.meta).toEqual({ requestId });
  return res.body.data as T;
}

export interface ListResult<T> {
  data: T[];
  page: { limit: number; nextCursor: string | null };
}

/** A success envelope with a list, `{data: [], meta: {requestId, page}}`: returns `data` and `meta.page`. */
export function expectList<T>(res: Response): ListResult<T> {
  expectStatus(res, 200);
  const requestId = expectJsonWithRequestId(res);
  expect(Object.keys(res.body).sort()).toEqual(['data', 'meta']);
  expect(Array.isArray(res.body.data)).toBe(true);
  expect(Object.keys(res.body.meta).sort()).toEqual(['page', 'requestId']);
  expect(res.body.meta.requestId).toBe(requestId);
  expect(Object.keys(res.body.meta.page).sort()).toEqual(['limit', 'nextCursor']);
  return { data: res.body.data as T[], page: res.body.meta.page };
}

/** A list envelope, as {@link expectList} checks it: returns just the items. */
export const expectItems = <T>(res: Response): T[] => expectList<T>(res).data;

/**
 * The error envelope with this status and code, `{error: {status, code, message, details?,
 * requestId}}` and nothing else, the request id also in the header: returns `error`. `details`, if
 * there, is a non-empty array, and only VALIDATION_FAILED may have it.
 */
export function expectError(res: Response, status: number, code: string): ErrorBody {
  expect({ status: res.status, code: res.body?.error?.code, body: res.body as unknown }).toMatchObject({
    status,
    code,
  });
  const requestId = expectJsonWithRequestId(res);
  expect(Object.keys(res.body)).toEqual(['error']);
  const error = res.body.error as ErrorBody;
  expect(error).toMatchObject({ status, code, message: expect.any(String), requestId });
  expect(error.message.length).toBeGreaterThan(0);
  const allowed = ['code', 'details', 'message', 'requestId', 'status'];
  expect(Object.keys(error).filter((key) => !allowed.includes(key))).toEqual([]);
  if (code !== 'VALIDATION_FAILED') expect(error.details).toBeUndefined();
  if (error.details !== undefined) {
    expect(Array.isArray(error.details)).toBe(true);
    expect(error.details.length).toBeGreaterThan(0);
  }
  return error;
}

/** A 400 VALIDATION_FAILED whose details name exactly these fields. */
export function expectValidationFailed(res: Response, fields: string[]): ErrorBody {
  const error = expectError(res, 400, 'VALIDATION_FAILED');
  expect(error.message).toBe('Request validation failed');
  expect(error.details).toBeDefined();
  expect(error.details!.length).toBeGreaterThan(0);
  for (const detail of error.details!)
    expect(detail).toEqual({ field: expect.any(String), message: expect.any(String) });
  expect([...new Set(error.details!.map((d) => d.field))].sort()).toEqual([...fields].sort());
  return error;
}

/** 401 UNAUTHENTICATED with a Bearer challenge. */
export function expectUnauthenticated(res: Response): void {
  expectError(res, 401, 'UNAUTHENTICATED');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer\b/);
}

/** 204 with nothing at all in the body, and the request id in the header. */
export function expectNoContent(res: Response): void {
  expectStatus(res, 204);
  expect(res.text).toBe('');
  expect(res.headers['content-type']).toBeUndefined();
  expect(typeof res.headers['x-request-id']).toBe('string');
}

/**
 * Follows nextCursor to the end, checking every page on the way (at most `maxPages`, each of
 * `limit` items but the last, no empty trailing page): returns every item, in order.
 */
export async function walkPages<T>(
  fetchPage: (cursor: string | null) => PromiseLike<Response>,
  limit: number,
  maxPages: number,
): Promise<T[]> {
  const seen: T[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const { data, page }: ListResult<T> = expectList<T>(await fetchPage(cursor));
    expect(page.limit).toBe(limit);
    expect(data.length).toBeLessThanOrEqual(limit);
    cursor = page.nextCursor;
    if (cursor !== null) {
      expect(typeof cursor).toBe('string');
      expect(data.length).toBe(limit); // only the last page may be short
    }
    seen.push(...data);
    pages++;
    expect(pages).toBeLessThanOrEqual(maxPages);
  } while (cursor !== null);
  // No empty trailing page: the last full page already says there is nothing more.
  expect(pages).toBe(Math.max(1, Math.ceil(seen.length / limit)));
  return seen;
}

/** Replaces one character of a cursor part with another base64url character. */
export function flipCharacter(text: string, index: number): string {
  return text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
}
