import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';

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
export class Database implements OnApplicationBootstrap {
  private readonly logger = new Logger(Database.name);

  /**
   * Named prepared statements, parsed and planned once per connection; off behind a transaction
   * pooler (DATABASE_POOLER=transaction), whose next statement may land on another server
   * connection, where the name is unknown or taken.
   */
  readonly namedStatements: boolean;

  constructor(
    private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    this.namedStatements = !config.behindTransactionPooler;
  }

  /**
   * Behind a transaction pooler the connections carry no timeouts of their own (the pooler
   * refuses them as startup parameters); transactions set theirs, and a statement outside one has
   * the role's or database's: say so when that is none.
   */
  async onApplicationBootstrap(): Promise<void> {
    if (this.namedStatements) return;
    const [row] = await this.rows<{ statement_timeout: string }>({ text: 'SHOW statement_timeout' });
    if (row?.statement_timeout === '0') {
      this.logger.warn(
        'Behind a transaction pooler, statements outside a transaction have no statement_timeout: set one on the role ' +
          "(ALTER ROLE … SET statement_timeout = '10s') or the database",
      );
    }
  }

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
