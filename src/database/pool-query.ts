import type { Pool, QueryConfig, QueryResultRow } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * Rows of one statement, straight from the `pg` pool TypeORM opened (same connections, settings
 * and timeouts), for hot read paths: no query runner, no entity metadata, no result wrapping.
 * Errors are pg's own, which classifyDatabaseError maps as it does TypeORM's. Give the hottest
 * fixed statements a `name`: each connection then parses and plans them once.
 */
export async function poolRows<Row extends QueryResultRow>(
  dataSource: DataSource,
  query: QueryConfig<unknown[]>,
): Promise<Row[]> {
  const pool = (dataSource.driver as unknown as { master: Pool }).master;
  return (await pool.query<Row>(query)).rows;
}
