import { AppConfig } from '../../config/app-config';
import { parseEnvironment } from '../../config/env.schema';
import { ApiException } from '../http/api-exception';
import { CursorPaginator, KeysetPage, listScope, PageWindow } from './cursor-paginator';

function paginatorWithSecret(jwtSecret: string): CursorPaginator {
  return new CursorPaginator(new AppConfig({ env: parseEnvironment({}), databaseUrl: 'postgres://x', jwtSecret }));
}

const SCOPE = listScope('users', { sort: 'name', q: 'ada' });
const ID = '0b6c2f4e-8a1d-4c3b-9e7f-5a2d1c0b9e8f';

/** Runs `decode` and returns the ApiException it throws (fails the test if it does not). */
function decodeError(paginator: CursorPaginator, cursor: string, scope = SCOPE): ApiException {
  try {
    paginator.decode(cursor, scope);
  } catch (error) {
    expect(error).toBeInstanceOf(ApiException);
    return error as ApiException;
  }
  throw new Error(`cursor ${JSON.stringify(cursor)} was accepted`);
}

function expectInvalidCursor(paginator: CursorPaginator, cursor: string, scope = SCOPE): void {
  const error = decodeError(paginator, cursor, scope);
  expect(error.code).toBe('INVALID_CURSOR');
  expect(error.getStatus()).toBe(400);
}

/** Replaces the character at `index` with another one of the base64url alphabet. */
function flipCharacter(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('CursorPaginator.encode / decode', () => {
  const paginator = paginatorWithSecret('a'.repeat(40));

  it('round-trips a string position', () => {
    const cursor = paginator.encode(SCOPE, ['Ada Lovelace', ID]);
    expect(paginator.decode(cursor, SCOPE)).toEqual(['Ada Lovelace', ID]);
  });

  it('round-trips a numeric position and a timestamp', () => {
    expect(paginator.decode(paginator.encode(SCOPE, [42, ID]), SCOPE)).toEqual([42, ID]);
    const at = '2026-11-23T10:00:00.000Z';
    expect(paginator.decode(paginator.encode(SCOPE, [at, ID]), SCOPE)).toEqual([at, ID]);
  });

  it('round-trips values with characters that need escaping', () => {
    const awkward = 'O\'Brien "quoted" \\ 100% _x_ ünïcødé 🚀 .dots.';
    expect(paginator.decode(paginator.encode(SCOPE, [awkward, ID]), SCOPE)).toEqual([awkward, ID]);
  });

  it('produces an opaque, URL-safe string', () => {
    const cursor = paginator.encode(SCOPE, ['Ada Lovelace', ID]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(cursor).not.toContain('Ada');
  });

  it('rejects a cursor from another scope (list, filter or sort)', () => {
    const cursor = paginator.encode(SCOPE, ['Ada Lovelace', ID]);
    expectInvalidCursor(paginator, cursor, listScope('users', { sort: '-name', q: 'ada' }));
    expectInvalidCursor(paginator, cursor, listScope('users', { sort: 'name', q: 'bob' }));
    expectInvalidCursor(paginator, cursor, listScope('users', { sort: 'name' }));
    expectInvalidCursor(paginator, cursor, listScope('projects', { sort: 'name', q: 'ada' }));
  });

  it('rejects every single-character change of the payload', () => {
    const cursor = paginator.encode(SCOPE, ['Ada Lovelace', ID]);
    const [payload, signature] = cursor.split('.');
    for (let i = 0; i < payload.length; i++) {
      expectInvalidCursor(paginator, `${flipCharacter(payload, i)}.${signature}`);
    }
  });

  it('rejects every single-character change of the signature', () => {
    const cursor = paginator.encode(SCOPE, ['Ada Lovelace', ID]);
    const [payload, signature] = cursor.split('.');
    for (let i = 0; i < signature.length; i++) {
      expectInvalidCursor(paginator, `${payload}.${flipCharacter(signature, i)}`);
    }
  });

  it('rejects a payload forged with another position but the original signature', () => {
    const cursor = paginator.encode(SCOPE, ['Ada Lovelace', ID]);
    const [payload, signature] = cursor.split('.');
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { s: string; p: unknown[] };
    const forged = Buffer.from(JSON.stringify({ ...decoded, p: ['Zed', ID] })).toString('base64url');
    expectInvalidCursor(paginator, `${forged}.${signature}`);
  });

  it('rejects a cursor signed with another key', () => {
    const other = paginatorWithSecret('b'.repeat(40));
    expectInvalidCursor(paginator, other.encode(SCOPE, ['Ada Lovelace', ID]));
  });

  it('rejects garbage', () => {
    for (const garbage of ['', '.', 'abc', 'abc.', '.abc', 'a.b.c', 'not a cursor', '%%%.%%%']) {
      expectInvalidCursor(paginator, garbage);
    }
  });

  it('rejects a correctly signed payload that is not a cursor', () => {
    const sign = (payload: string): string => paginator['sign'](payload);
    const notJson = Buffer.from('not json').toString('base64url');
    expectInvalidCursor(paginator, `${notJson}.${sign(notJson)}`);
    const wrongShape = Buffer.from(JSON.stringify({ s: 'x', p: 'y' })).toString('base64url');
    expectInvalidCursor(paginator, `${wrongShape}.${sign(wrongShape)}`);
  });
});

describe('listScope', () => {
  it('does not depend on the order of the parameters', () => {
    expect(listScope('users', { q: 'ada', role: 'admin', sort: 'name' })).toBe(
      listScope('users', { sort: 'name', role: 'admin', q: 'ada' }),
    );
  });

  it('ignores undefined values', () => {
    expect(listScope('users', { q: undefined, sort: 'name', role: undefined })).toBe(
      listScope('users', { sort: 'name' }),
    );
  });

  it('differs by list, parameter value and parameter name', () => {
    const base = listScope('users', { sort: 'name', q: 'ada' });
    expect(listScope('orgs', { sort: 'name', q: 'ada' })).not.toBe(base);
    expect(listScope('users', { sort: '-name', q: 'ada' })).not.toBe(base);
    expect(listScope('users', { sort: 'name', q: 'ad' })).not.toBe(base);
    expect(listScope('users', { sort: 'name', role: 'ada' })).not.toBe(base);
    expect(listScope('users', { sort: 'name' })).not.toBe(base);
  });

  it('cannot be confused by values that look like separators', () => {
    expect(listScope('users', { a: 'x","b":"y' })).not.toBe(listScope('users', { a: 'x', b: 'y' }));
  });
});

describe('CursorPaginator.page', () => {
  const paginator = paginatorWithSecret('a'.repeat(40));

  interface Row {
    id: string;
    name: string;
  }

  /** A repository stand-in that records the window it is asked for and returns up to its limit of `rows`. */
  function fakeFetch(rows: Row[]) {
    const windows: PageWindow[] = [];
    const fetch = async (window: PageWindow): Promise<Row[]> => {
      windows.push(window);
      return rows.slice(0, window.limit);
    };
    return { fetch, windows };
  }

  const rows: Row[] = [
    { id: 'id-1', name: 'a' },
    { id: 'id-2', name: 'b' },
    { id: 'id-3', name: 'c' },
  ];

  const page = (overrides: Partial<KeysetPage<Row, string>>): KeysetPage<Row, string> => ({
    scope: SCOPE,
    sortColumn: 'u.name',
    idColumn: 'u.id',
    direction: 'ASC',
    position: (row) => [row.name, row.id],
    map: (row) => row.name,
    limit: 2,
    ...overrides,
  });

  it('fetches one row more than the limit and returns a cursor at the last item when there is more', async () => {
    const { fetch, windows } = fakeFetch(rows);
    const result = await paginator.page(page({}), fetch);
    expect(windows).toEqual([{ where: 'TRUE', parameters: {}, order: { 'u.name': 'ASC', 'u.id': 'ASC' }, limit: 3 }]);
    expect(result.items).toEqual(['a', 'b']);
    expect(result.limit).toBe(2);
    expect(paginator.decode(result.nextCursor!, SCOPE)).toEqual(['b', 'id-2']);
  });

  it('returns a null cursor on the last page', async () => {
    const { fetch } = fakeFetch(rows);
    const result = await paginator.page(page({ limit: 3 }), fetch);
    expect(result.items).toEqual(['a', 'b', 'c']);
    expect(result.nextCursor).toBeNull();
  });

  it('continues after the cursor position, with the id as tie-breaker, in the sort direction', async () => {
    const ascending = fakeFetch(rows);
    await paginator.page(page({ cursor: paginator.encode(SCOPE, ['b', 'id-2']) }), ascending.fetch);
    expect(ascending.windows[0]).toMatchObject({
      where: '(u.name, u.id) > (:cursorValue, :cursorId)',
      parameters: { cursorValue: 'b', cursorId: 'id-2' },
    });

    const descending = fakeFetch(rows);
    await paginator.page(page({ direction: 'DESC', cursor: paginator.encode(SCOPE, ['b', 'id-2']) }), descending.fetch);
    expect(descending.windows[0]).toMatchObject({
      where: '(u.name, u.id) < (:cursorValue, :cursorId)',
      parameters: { cursorValue: 'b', cursorId: 'id-2' },
      order: { 'u.name': 'DESC', 'u.id': 'DESC' },
    });
  });

  it('puts nulls last on a nullable sort column', async () => {
    const { fetch, windows } = fakeFetch(rows);
    await paginator.page(page({ nullable: true, direction: 'DESC' }), fetch);
    expect(windows[0].order).toEqual({ 'u.name': { order: 'DESC', nulls: 'NULLS LAST' }, 'u.id': 'DESC' });
  });

  it('rejects a foreign cursor before querying', async () => {
    const { fetch, windows } = fakeFetch(rows);
    const foreign = paginator.encode(listScope('users', { sort: '-name' }), ['b', 'id-2']);
    await expect(paginator.page(page({ cursor: foreign }), fetch)).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    expect(windows).toEqual([]);
  });
});
