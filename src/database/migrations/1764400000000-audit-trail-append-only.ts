import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The audit trail is append-only, in the database itself: an UPDATE, DELETE or TRUNCATE of
 * audit_events fails, whoever sends it. (Rows of deleted orgs stay: the table has no foreign key.)
 */
export class AuditTrailAppendOnly1764400000000 implements MigrationInterface {
  name = 'AuditTrailAppendOnly1764400000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
      END $$`);
    await db.query(`
      CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await db.query(`
      CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TRIGGER audit_events_no_truncate ON audit_events');
    await db.query('DROP TRIGGER audit_events_append_only ON audit_events');
    await db.query('DROP FUNCTION audit_events_append_only()');
  }
}
