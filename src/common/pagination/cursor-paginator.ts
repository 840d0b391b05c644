import { HttpStatus, Injectable } from '@nestjs/common';
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { ObjectLiteral, OrderByCondition } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import type { Statement } from '../../database/database';
import { ApiException } from '../http/api-exception';
import { Page } from './page';

export type SortDirection = 'ASC' | 'DESC';
/** The sort value (null for a nullable column) and the id of the last row of a page. */
export type CursorPosition = [string | number | null, string];

export interface KeysetPage<Row extends ObjectLiteral, Item> {
  /** Names the list, its filters and its sort: a cursor is valid only for the same scope. */
  scope: string;
  /** The SQL expression sorted on and its direction; the id breaks ties. */
  sortColumn: string;
  /** Nullable sort columns put nulls last in both directions. */
  nullable?: boolean;
  idColumn: string;
  direction: SortDirection;
  /** The sort value and id of a row, as the cursor stores them. */
  position: (row: Row) => CursorPosition;
  map: (row: Row) => Item;
  limit: number;
  cursor?: string;
}

/** What a repository's query adds for one page: a condition with its named parameters, an order, a limit. */
export interface PageWindow {
  where: string;
  parameters: Record<string, unknown>;
  order: OrderByCondition;
  limit: number;
}

const SIGNATURE_BYTES = 16;
export const MAX_CURSOR_LENGTH = 2048;

/**
 * Keyset (cursor) pagination for every list in the API. Cursors are opaque, HMAC-signed
 * `{scope, position}` pairs: an edited cursor, or one from another list, filter set or sort,
 * is a 400 INVALID_CURSOR. Paging is stable because every order ends with the id.
 */
@Injectable()
export class CursorPaginator {
  private readonly key: Buffer;

  constructor(config: AppConfig) {
    this.key = Buffer.from(hkdfSync('sha256', config.jwtSecret, '', 'tasklane:cursor', 32));
  }

  /**
   * One page of a list read through a QueryBuilder: `fetch` applies the window (the rows after
   * the cursor, in the page's order, one more than the limit) to the repository's query.
   */
  async page<Row extends ObjectLiteral, Item>(
    page: KeysetPage<Row, Item>,
    fetch: (window: PageWindow) => Promise<Row[]>,
  ): Promise<Page<Item>> {
    const parameters: Record<string, unknown> = {};
    const after = this.after(page, (name, value) => {
      parameters[name] = value;
      return `:${name}`;
    });
    const order = page.nullable ? { order: page.direction, nulls: 'NULLS LAST' as const } : page.direction;
    const rows = await fetch({
      where: after ?? 'TRUE',
      parameters,
      order: { [page.sortColumn]: order, [page.idColumn]: page.direction },
      limit: page.limit + 1,
    });
    return this.pageOf(rows, page);
  }

  /**
   * The condition for the rows after the page's cursor (none without one), its values bound by
   * `bind` (which returns the placeholder to write).
   */
  private after(
    page: KeysetPage<never, unknown>,
    bind: (name: 'cursorValue' | 'cursorId', value: unknown) => string,
  ): string | undefined {
    if (page.cursor === undefined) return undefined;
    const [value, id] = this.decode(page.cursor, page.scope);
    return afterPosition(
      page,
      value,
      () => bind('cursorValue', value),
      () => bind('cursorId', id),
    );
  }

  /**
   * One page of a list read with plain SQL: `select` (`SELECT … FROM …`), its conditions and their
   * values ($1…), then the cursor's condition, the page's order and limit; `read` runs the statement
   * (Database.laggingRows for a list a replica may serve).
   */
  async pageOfStatement<Row extends ObjectLiteral, Item>(
    page: KeysetPage<Row, Item>,
    query: { select: string; where: string[]; values: unknown[] },
    read: (statement: Statement) => Promise<Row[]>,
  ): Promise<Page<Item>> {
    const values = [...query.values];
    const where = [...query.where];
    const after = this.after(page, (_name, value) => `$${values.push(value)}`);
    if (after) where.push(after);
    const rows = await read({
      text: `${query.select} WHERE ${where.join(' AND ')} ORDER BY ${this.orderBy(page)} LIMIT ${page.limit + 1}`,
      values,
    });
    return this.pageOf(rows, page);
  }

  /** The page's ORDER BY, for plain SQL. */
  private orderBy(page: KeysetPage<never, unknown>): string {
    const nulls = page.nullable ? ' NULLS LAST' : '';
    return `${page.sortColumn} ${page.direction}${nulls}, ${page.idColumn} ${page.direction}`;
  }

  /** The page, from up to `limit + 1` rows read in the page's order. */
  private pageOf<Row extends ObjectLiteral, Item>(rows: Row[], page: KeysetPage<Row, Item>): Page<Item> {
    const more = rows.length > page.limit;
    const items = more ? rows.slice(0, page.limit) : rows;
    const nextCursor = more ? this.encode(page.scope, page.position(items[items.length - 1])) : null;
    return new Page(items.map(page.map), page.limit, nextCursor);
  }

  encode(scope: string, position: CursorPosition): string {
    const payload = Buffer.from(JSON.stringify({ s: scopeDigest(scope), p: position })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  decode(cursor: string, scope: string): CursorPosition {
    if (cursor.length > MAX_CURSOR_LENGTH) throw invalidCursor();
    const [payload, signature, extra] = cursor.split('.');
    if (extra !== undefined || !payload || !signature) throw invalidCursor();
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw invalidCursor();
    let parsed: { s?: unknown; p?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalidCursor();
    }
    const position = parsed.p;
    if (parsed.s !== scopeDigest(scope) || !Array.isArray(position) || position.length !== 2) throw invalidCursor();
    return position as CursorPosition;
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, SIGNATURE_BYTES).toString('base64url');
  }
}

/** Rows after the cursor position in the page's order (nulls last, then by id). */
function afterPosition(
  page: Pick<KeysetPage<ObjectLiteral, unknown>, 'direction' | 'sortColumn' | 'idColumn' | 'nullable'>,
  value: string | number | null,
  cursorValue: () => string,
  cursorId: () => string,
): string {
  const beyond = page.direction === 'ASC' ? '>' : '<';
  const { sortColumn: column, idColumn: id } = page;
  if (!page.nullable) return `(${column}, ${id}) ${beyond} (${cursorValue()}, ${cursorId()})`;
  if (value === null) return `(${column} IS NULL AND ${id} ${beyond} ${cursorId()})`;
  const v = cursorValue();
  return `(${column} ${beyond} ${v} OR (${column} = ${v} AND ${id} ${beyond} ${cursorId()}) OR ${column} IS NULL)`;
}

function scopeDigest(scope: string): string {
  return createHash('sha256').update(scope).digest('base64url').slice(0, 16);
}

function invalidCursor(): ApiException {
  return new ApiException(HttpStatus.BAD_REQUEST, 'INVALID_CURSOR', 'The cursor is invalid for this list');
}

/** A stable description of a list's filters and sort, for the cursor scope. */
export function listScope(list: string, parameters: Record<string, unknown>): string {
  const entries = Object.keys(parameters)
    .sort()
    .filter((key) => parameters[key] !== undefined)
    .map((key) => [key, parameters[key]]);
  return `${list}:${JSON.stringify(entries)}`;
}

/**
 * The page of a list in creation order — most lists: sorted on `<alias>.created_at`, the id
 * (`<alias>.id`) breaking ties — for `query`'s limit and cursor.
 */
export function inCreationOrder<Row extends { id: string; createdAt: Date }, Item>(
  alias: string,
  scope: string,
  direction: SortDirection,
  map: (row: Row) => Item,
  query: { limit: number; cursor?: string },
): KeysetPage<Row, Item> {
  return {
    scope,
    sortColumn: `${alias}.created_at`,
    idColumn: `${alias}.id`,
    direction,
    position: (row) => [row.createdAt.toISOString(), row.id],
    map,
    limit: query.limit,
    cursor: query.cursor,
  };
}
