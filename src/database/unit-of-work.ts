import { Injectable } from '@nestjs/common';
import { DataSource, EntityManager } from 'typeorm';

/** What a request may add to the transaction of its change (see Actor in common/auth). */
export interface UnitOfWorkActor {
  beforeCommit?: (manager: EntityManager, result: unknown) => Promise<void>;
}

/**
 * One transaction for a change and everything that must commit with it. `run` executes the
 * change, then what the request added (the stored response of an Idempotency-Key request), and
 * commits them together: a resource never exists without its replayable response, nor the reverse.
 */
@Injectable()
export class UnitOfWork {
  constructor(private readonly dataSource: DataSource) {}

  run<T>(actor: UnitOfWorkActor, work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(async (manager) => {
      const result = await work(manager);
      await actor.beforeCommit?.(manager, result);
      return result;
    });
  }
}
