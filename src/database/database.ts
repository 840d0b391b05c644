import { Injectable } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';

/**
 * One SQL statement. `name` marks a hot, fixed statement that each connection may parse and
 * plan once (a named prepared statement); whether names are used is decided here, not by the
 * repository that wrote the statement.
 */
export interface Statement {
  text: string;
  values?: unknown[];
  name?: string;
}

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The one supported way to run hand-written SQL outside a transaction (inside one, see
 * UnitOfWork's Transaction). Repositories read through `rows`; this is where the statement
 * strategy lives: named statements today, plain ones behind a transaction pooler, reads routed
 * to a replica — each a change to this class alone. (Repositories' TypeORM QueryBuilder reads
 * go through the same DataSource, whose options — data-source.options.ts — carry the rest of
 * such a switch: TypeORM's own `replication` setting.)
 */
@Injectable()
export class Database {
  /** Named prepared statements; off where a transaction pooler cannot carry them. */
  readonly namedStatements = true;

  constructor(private readonly dataSource: DataSource) {}

  /** The rows of one statement, on the pool TypeORM opened (same connections, settings, timeouts). */
  async rows<Row extends QueryResultRow>(statement: Statement): Promise<Row[]> {
    const { text, values, name } = statement;
    const config = name && this.namedStatements ? { name, text, values } : { text, values };
    return (await this.pool().query<Row>(config)).rows;
  }

  /** For /metrics: the pool's connections, or zeros before it is open. */
  poolStats(): PoolStats {
    const pool = this.dataSource.isInitialized ? this.pool() : undefined;
    return { total: pool?.totalCount ?? 0, idle: pool?.idleCount ?? 0, waiting: pool?.waitingCount ?? 0 };
  }

  // The driver's pool is not part of TypeORM's typed API; this is the one place that reads it.
  private pool(): Pool {
    return (this.dataSource.driver as unknown as { master: Pool }).master;
  }
}
