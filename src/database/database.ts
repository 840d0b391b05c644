import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { ReadReplicas } from './read-replicas';
import type { Statement } from './statement';

export type { Statement } from './statement';

export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

/**
 * The one supported way to run hand-written SQL outside a transaction (inside one, see
 * UnitOfWork's Transaction). Repositories read through `rows`, and lists through `laggingRows`;
 * this is where the statement strategy lives: named statements on a direct connection; behind a
 * transaction pooler their plan-cached function calls (`planCached`) or plain text; lists routed
 * to a replica that has the reader's writes.
 * (Repositories' TypeORM QueryBuilder reads go to the primary, through the same pool.)
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
    private readonly replicas: ReadReplicas,
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
    const { text, values, name, planCached } = statement;
    const config = !name
      ? { text, values }
      : this.namedStatements
        ? { name, text, values }
        : { text: planCached ?? text, values };
    return (await this.pool().query<Row>(config)).rows;
  }

  /**
   * The rows of a read that may lag (a list): served by a read replica when DATABASE_REPLICA_URLS
   * has one that has replayed `readerId`'s own writes, else by the primary (contract §21). Never for
   * what decides access: a revoked membership must not linger on a replica.
   */
  async laggingRows<Row extends QueryResultRow>(readerId: string, statement: Statement): Promise<Row[]> {
    if (!this.replicas.enabled) return this.rows(statement);
    return this.replicas.rows(readerId, statement, (s) => this.rows<Row>(s));
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
