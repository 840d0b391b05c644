import { Injectable, Logger } from '@nestjs/common';
import type { QueryResultRow } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { AppConfig } from '../config/app-config';
import { sessionTimeouts } from './data-source.options';
import type { Statement } from './statement';

/** Work that may only happen once the transaction has committed: removing files, revocations, later outboxes. */
export type AfterCommit = () => void | Promise<void>;

/** Work a request adds to the transaction of its change, run just before it commits (the stored response of an Idempotency-Key request). */
export type BeforeCommit = (tx: Transaction, result: unknown) => Promise<void>;

export interface UnitOfWorkActor {
  beforeCommit?: BeforeCommit;
}

/**
 * A transaction in progress. Repositories run their statements on it; services register what
 * must happen after it commits, which runs only if it does.
 */
export class Transaction {
  private readonly effects: AfterCommit[] = [];

  constructor(readonly manager: EntityManager) {}

  /** The rows a statement returns (SELECT, or INSERT/UPDATE/DELETE … RETURNING). */
  async rows<Row extends QueryResultRow>(statement: Statement): Promise<Row[]> {
    return ((await this.run(statement)).records ?? []) as Row[];
  }

  /** How many rows a statement changed. */
  async affected(statement: Statement): Promise<number> {
    return (await this.run(statement)).affected ?? 0;
  }

  afterCommit(effect: AfterCommit): void {
    this.effects.push(effect);
  }

  /** @internal UnitOfWork runs these once the transaction has committed. */
  takeEffects(): AfterCommit[] {
    return this.effects.splice(0);
  }

  private run(statement: Statement): Promise<{ records?: unknown[]; affected?: number }> {
    return this.manager.queryRunner!.query(statement.text, statement.values ?? [], true);
  }
}

/**
 * One transaction for a change and everything that must commit with it, then what must follow
 * it. `run` executes the change, then what the request added (the replayable response of an
 * Idempotency-Key request), commits them together, and only then runs the after-commit effects
 * registered on the transaction, in order. An effect that fails is logged and does not fail
 * the change: it has happened (each effect has its own retry: the file sweep, the revocation
 * reload).
 */
@Injectable()
export class UnitOfWork {
  private readonly logger = new Logger(UnitOfWork.name);

  /** Behind a transaction pooler the connection has no timeouts of its own: each transaction sets them. */
  private readonly timeouts?: Statement;

  constructor(
    private readonly dataSource: DataSource,
    config: AppConfig,
  ) {
    if (config.behindTransactionPooler) {
      const { statement_timeout, idle_in_transaction_session_timeout } = sessionTimeouts(
        config.env.DB_STATEMENT_TIMEOUT_MS,
      );
      this.timeouts = {
        text: `SELECT set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true)`,
        values: [String(statement_timeout), String(idle_in_transaction_session_timeout)],
      };
    }
  }

  async run<T>(work: (tx: Transaction) => Promise<T>, actor: UnitOfWorkActor = {}): Promise<T> {
    let effects: AfterCommit[] = [];
    const result = await this.dataSource.transaction(async (manager) => {
      const tx = new Transaction(manager);
      if (this.timeouts) await tx.rows(this.timeouts);
      const value = await work(tx);
      await actor.beforeCommit?.(tx, value);
      effects = tx.takeEffects();
      return value;
    });
    for (const effect of effects) {
      try {
        await effect();
      } catch (error) {
        this.logger.warn(`An after-commit effect failed: ${(error as Error).message}`);
      }
    }
    return result;
  }
}
