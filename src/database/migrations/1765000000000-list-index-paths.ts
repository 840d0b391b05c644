import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Index paths for lists that had none (issue 16, "Data scale"; numbers in BENCHMARKS.md):
 * - `-dueDate` sorts due dates descending with the undated last (contract §9), an order no
 *   existing index gives (read backwards, `(…, due_date, id)` puts the undated first), so the
 *   whole project or org was sorted per page: one index per scope in exactly that order;
 * - the audit log filtered on `entityType` alone or `entityId` alone (without the other) had no
 *   index that gives it in order — every event of the org was read: one each;
 * - `actorType=apiKey` the same, for a small share of the events: a partial index of those;
 * - `q`: with the default statistics target, ANALYZE keeps only the most common lexemes, the
 *   planner guesses 0.5 % of the rows for any other word, and for a rare one reads the whole org
 *   in creation order looking for it (70 ms at 100,000 tasks); ten times the sample of the search
 *   column keeps rare lexemes too, and their estimates become small enough for the GIN index.
 */
export class ListIndexPaths1765000000000 implements MigrationInterface {
  name = 'ListIndexPaths1765000000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX tasks_project_due_desc_idx ON tasks (project_id, due_date DESC NULLS LAST, id DESC)`);
    await db.query(`CREATE INDEX tasks_org_due_desc_idx ON tasks (org_id, due_date DESC NULLS LAST, id DESC)`);
    await db.query(
      `CREATE INDEX audit_events_org_entity_type_idx ON audit_events (org_id, entity_type, created_at, id)`,
    );
    await db.query(`CREATE INDEX audit_events_org_entity_id_idx ON audit_events (org_id, entity_id, created_at, id)`);
    await db.query(
      `CREATE INDEX audit_events_org_api_key_idx ON audit_events (org_id, created_at, id) WHERE actor_type = 'apiKey'`,
    );
    await db.query('ALTER TABLE tasks ALTER COLUMN search SET STATISTICS 1000');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('ALTER TABLE tasks ALTER COLUMN search SET STATISTICS -1');
    await db.query('DROP INDEX audit_events_org_api_key_idx');
    await db.query('DROP INDEX audit_events_org_entity_id_idx');
    await db.query('DROP INDEX audit_events_org_entity_type_idx');
    await db.query('DROP INDEX tasks_org_due_desc_idx');
    await db.query('DROP INDEX tasks_project_due_desc_idx');
  }
}
