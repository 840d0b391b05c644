import { HttpStatus, Injectable } from '@nestjs/common';
import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AppConfig } from '../../config/app-config';
import { ApiException } from '../http/api-exception';
import { Page } from './page';

export type SortDirection = 'ASC' | 'DESC';

export interface KeysetPage<Row extends ObjectLiteral, Item> {
  /** Names the list, its filters and its sort: a cursor is valid only for the same scope. */
  scope: string;
  /** The SQL expression sorted on (not nullable) and its direction; the id breaks ties. */
  sortColumn: string;
  idColumn: string;
  direction: SortDirection;
  /** The sort value and id of a row, as the cursor stores them. */
  position: (row: Row) => [string | number, string];
  map: (row: Row) => Item;
  limit: number;
  cursor?: string;
}

const SIGNATURE_BYTES = 16;
const MAX_CURSOR_LENGTH = 2048;

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

  async paginate<Row extends ObjectLiteral, Item>(
    qb: SelectQueryBuilder<Row>,
    page: KeysetPage<Row, Item>,
  ): Promise<Page<Item>> {
    const comparison = page.direction === 'ASC' ? '>' : '<';
    if (page.cursor !== undefined) {
      const [value, id] = this.decode(page.cursor, page.scope);
      qb.andWhere(`(${page.sortColumn}, ${page.idColumn}) ${comparison} (:cursorValue, :cursorId)`, {
        cursorValue: value,
        cursorId: id,
      });
    }
    const rows = await qb
      .orderBy(page.sortColumn, page.direction)
      .addOrderBy(page.idColumn, page.direction)
      .limit(page.limit + 1)
      .getMany();
    const more = rows.length > page.limit;
    const items = more ? rows.slice(0, page.limit) : rows;
    const nextCursor = more ? this.encode(page.scope, page.position(items[items.length - 1])) : null;
    return new Page(items.map(page.map), page.limit, nextCursor);
  }

  encode(scope: string, position: [string | number, string]): string {
    const payload = Buffer.from(JSON.stringify({ s: scopeDigest(scope), p: position })).toString('base64url');
    return `${payload}.${this.sign(payload)}`;
  }

  decode(cursor: string, scope: string): [string | number, string] {
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
    return position as [string | number, string];
  }

  private sign(payload: string): string {
    return createHmac('sha256', this.key).update(payload).digest().subarray(0, SIGNATURE_BYTES).toString('base64url');
  }
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
