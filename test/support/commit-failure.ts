import type { DataSource } from 'typeorm';

/**
 * Makes every transaction that inserts into `table` a row whose `column` starts with `rollback-`
 * fail at COMMIT (a deferred constraint trigger): after everything the change wrote — its audit
 * record, its outbox rows, its jobs — so a test sees what a change that rolls back at the last
 * moment leaves behind. Returns what removes the trigger again.
 */
export async function refuseAtCommit(
  dataSource: DataSource,
  table: string,
  column: string,
): Promise<() => Promise<void>> {
  const name = `test_refuse_rollback_${table}`;
  await dataSource.query(`
    CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.${column} LIKE 'rollback-%' THEN RAISE EXCEPTION 'refused by the test'; END IF;
      RETURN NEW;
    END $$`);
  await dataSource.query(`
    CREATE CONSTRAINT TRIGGER ${name} AFTER INSERT ON ${table}
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  return async () => {
    await dataSource.query(`DROP TRIGGER ${name} ON ${table}`);
    await dataSource.query(`DROP FUNCTION ${name}()`);
  };
}
