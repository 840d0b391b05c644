import { Client } from 'pg';
import { Transaction, UnitOfWork } from '../src/database/unit-of-work';
import { createTestApp, TestApp } from './support/test-app';

/**
 * The unit of work on a real PostgreSQL: effects registered on a transaction run only after it
 * has committed (and see its writes from another connection), in order; none run when it rolls
 * back; a failing effect is logged and does not undo or fail the committed change.
 */
describe('UnitOfWork', () => {
  let t: TestApp;
  let unitOfWork: UnitOfWork;
  let observer: Client;

  beforeAll(async () => {
    t = await createTestApp({ captureLogs: true });
    unitOfWork = t.app.get(UnitOfWork);
    observer = new Client({ connectionString: t.databaseUrl });
    await observer.connect();
    await observer.query('CREATE TABLE IF NOT EXISTS unit_of_work_probe (label text PRIMARY KEY)');
  });
  afterAll(async () => {
    await observer.query('DROP TABLE IF EXISTS unit_of_work_probe');
    await observer.end();
    await t.close();
  });

  const write = (tx: Transaction, label: string) =>
    tx.affected({ text: 'INSERT INTO unit_of_work_probe (label) VALUES ($1)', values: [label] });
  /** What another connection sees: only committed rows. */
  const committed = async (label: string): Promise<boolean> =>
    (await observer.query('SELECT 1 FROM unit_of_work_probe WHERE label = $1', [label])).rowCount === 1;

  it('runs after-commit effects once the transaction has committed, in the order registered', async () => {
    const seen: [string, boolean][] = [];
    const result = await unitOfWork.run(async (tx) => {
      await write(tx, 'committed');
      tx.afterCommit(async () => void seen.push(['first', await committed('committed')]));
      tx.afterCommit(async () => void seen.push(['second', await committed('committed')]));
      seen.push(['inside', await committed('committed')]);
      return 42;
    });
    expect(result).toBe(42);
    expect(seen).toEqual([
      ['inside', false],
      ['first', true],
      ['second', true],
    ]);
  });

  it('runs none of them when the transaction rolls back, and writes nothing', async () => {
    const effect = jest.fn();
    await expect(
      unitOfWork.run(async (tx) => {
        await write(tx, 'rolled-back');
        tx.afterCommit(effect);
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    expect(effect).not.toHaveBeenCalled();
    expect(await committed('rolled-back')).toBe(false);
  });

  it('runs none when the request part added before commit fails', async () => {
    const effect = jest.fn();
    await expect(
      unitOfWork.run(
        async (tx) => {
          await write(tx, 'before-commit-fails');
          tx.afterCommit(effect);
        },
        {
          beforeCommit: () => Promise.reject(new Error('the stored response cannot be written')),
        },
      ),
    ).rejects.toThrow('the stored response cannot be written');
    expect(effect).not.toHaveBeenCalled();
    expect(await committed('before-commit-fails')).toBe(false);
  });

  it('a failing effect is logged; the change stands and the later effects still run', async () => {
    const later = jest.fn();
    await unitOfWork.run(async (tx) => {
      await write(tx, 'effect-fails');
      tx.afterCommit(() => Promise.reject(new Error('storage unreachable')));
      tx.afterCommit(later);
    });
    expect(await committed('effect-fails')).toBe(true);
    expect(later).toHaveBeenCalledTimes(1);
    expect(t.logs.some((line) => String(line.msg).includes('storage unreachable'))).toBe(true);
  });
});
