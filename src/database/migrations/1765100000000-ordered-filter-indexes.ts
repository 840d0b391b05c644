import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Index paths for filtered lists, from the plans at 1,000,000 tasks (issue 16, "Data scale";
 * numbers in BENCHMARKS.md):
 * - the audit log by `action` or by `actorId`: `(org_id, action, created_at)` gives the events in
 *   time order but not the id that breaks ties in the list's order `created_at DESC, id DESC`,
 *   so every page sorted all the events of its first instant (6,138 of them at 1M, where a bulk
 *   change writes many events at once: 12.7 ms); with `id` in the index a page reads its 51 rows
 *   (0.2 ms). Rebuilt with the same names;
 * - `audit_events_entity_idx` `(org_id, entity_type, entity_id, created_at)` is dropped: entity ids
 *   are UUIDs, so `audit_events_org_entity_id_idx` `(org_id, entity_id, created_at, id)` serves
 *   `entityType` with `entityId` as exactly, in order, and every audited write maintains one index
 *   fewer;
 * - a rare `label` in a big project: the GIN index on `labels` alone found the label's tasks of
 *   every project, and the planner ANDed that bitmap with all the project's rows (a quarter of a
 *   million, from `tasks_status_idx`: 18.8 ms). A GIN index on `(project_id, labels)` finds the
 *   project's tasks with the label directly (2.5 ms), and serves a label alone (org-wide) as the
 *   old one did, so it replaces it. GIN over a uuid column needs `btree_gin` (a contrib extension
 *   in every PostgreSQL distribution, trusted since PostgreSQL 13: a database owner may create it).
 * The extension stays on `down` (it may have been there before, and costs nothing unused).
 */
export class OrderedFilterIndexes1765100000000 implements MigrationInterface {
  name = 'OrderedFilterIndexes1765100000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query('DROP INDEX audit_events_action_idx');
    await db.query('CREATE INDEX audit_events_action_idx ON audit_events (org_id, action, created_at, id)');
    await db.query('DROP INDEX audit_events_actor_idx');
    await db.query('CREATE INDEX audit_events_actor_idx ON audit_events (org_id, actor_id, created_at, id)');
    await db.query('DROP INDEX audit_events_entity_idx');
    await db.query('CREATE EXTENSION IF NOT EXISTS btree_gin');
    await db.query('CREATE INDEX tasks_project_labels_idx ON tasks USING gin (project_id, labels)');
    await db.query('DROP INDEX tasks_labels_idx');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('CREATE INDEX tasks_labels_idx ON tasks USING gin (labels)');
    await db.query('DROP INDEX tasks_project_labels_idx');
    await db.query('CREATE INDEX audit_events_entity_idx ON audit_events (org_id, entity_type, entity_id, created_at)');
    await db.query('DROP INDEX audit_events_actor_idx');
    await db.query('CREATE INDEX audit_events_actor_idx ON audit_events (org_id, actor_id, created_at)');
    await db.query('DROP INDEX audit_events_action_idx');
    await db.query('CREATE INDEX audit_events_action_idx ON audit_events (org_id, action, created_at)');
  }
}
