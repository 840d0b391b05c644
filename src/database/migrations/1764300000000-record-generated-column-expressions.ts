import { MigrationInterface, QueryRunner } from 'typeorm';

// The expressions exactly as the entity declares them (asExpression of Task.priorityRank and
// Task.search): TypeORM compares these strings, not the expressions PostgreSQL stores.
const GENERATED_COLUMNS = [
  ['tasks', 'priority_rank', "CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END"],
  ['tasks', 'search', "to_tsvector('simple', title || ' ' || description)"],
];

/**
 * TypeORM reads the expression of a generated column from its own table, typeorm_metadata,
 * because PostgreSQL reformats the expression it stores. The columns were created with SQL, so
 * the rows TypeORM would have written are recorded here, keyed by database and schema as TypeORM
 * looks them up. Without them `migration:generate` fails, or proposes to recreate the columns.
 */
export class RecordGeneratedColumnExpressions1764300000000 implements MigrationInterface {
  name = 'RecordGeneratedColumnExpressions1764300000000';

  async up(db: QueryRunner): Promise<void> {
    // The table as TypeORM creates it (it may have done so already, before running migrations).
    await db.query(`
      CREATE TABLE IF NOT EXISTS typeorm_metadata (
        "type" character varying NOT NULL,
        "database" character varying,
        "schema" character varying,
        "table" character varying,
        "name" character varying,
        "value" text
      )`);
    for (const [table, column, expression] of GENERATED_COLUMNS) {
      await db.query(
        `INSERT INTO typeorm_metadata ("database", "schema", "table", "type", "name", "value")
         VALUES (current_database(), current_schema(), $1, 'GENERATED_COLUMN', $2, $3)`,
        [table, column, expression],
      );
    }
  }

  async down(db: QueryRunner): Promise<void> {
    for (const [table, column] of GENERATED_COLUMNS) {
      await db.query(
        `DELETE FROM typeorm_metadata
          WHERE "type" = 'GENERATED_COLUMN' AND "database" = current_database() AND "schema" = current_schema()
            AND "table" = $1 AND "name" = $2`,
        [table, column],
      );
    }
    // Dropped only if nothing else is recorded in it.
    await db.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM typeorm_metadata) THEN DROP TABLE typeorm_metadata; END IF;
      END $$`);
  }
}
