/**
 * `npm run migration:check`: do the entities describe exactly the schema the migrations make?
 *
 * 1. Applies every migration to a fresh database and runs TypeORM's own
 *    `migration:generate --check` against it (with the built entities, dist/ormconfig.js), which
 *    prints the migration it would generate and exits 1 when there is anything to generate.
 * 2. TypeORM compares some things by name only (check constraints, primary keys) or not at all
 *    (index column order, partial index conditions). So the check also builds a second database
 *    from the entities alone and compares PostgreSQL's own description of both: every column,
 *    constraint and index of the entities' tables, as the server normalizes them.
 *
 * The databases are made on the server of DATABASE_URL, or on an embedded PostgreSQL started for
 * the check when DATABASE_URL is unset (as the tests do), and dropped afterwards.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../src/database/data-source.options';
import { runMigrationsLocked } from '../src/database/migration-runner';
import { scratchDatabases } from './scratch-databases';

const root = resolve(__dirname, '..');
const ENTITIES = join(root, 'dist', 'src', '**', '*.entity.js'); // as dist/ormconfig.js loads them

function dataSource(url: string, entities: string[] = []): DataSource {
  return new DataSource({
    ...dataSourceOptions({ databaseUrl: url, poolMax: 1, connectionTimeoutMs: 10_000, statementTimeoutMs: 0 }),
    entities,
  });
}

/** 1. TypeORM's migration:generate --check against the migrated database. */
function typeormCheck(migratedUrl: string): number {
  console.log('\n1. TypeORM: migration:generate --check against it');
  const check = spawnSync(
    process.execPath,
    [
      join(root, 'node_modules', 'typeorm', 'cli.js'),
      'migration:generate',
      '--check',
      '--dataSource',
      'dist/ormconfig.js',
      'src/database/migrations/SchemaDrift',
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, DATABASE_URL: migratedUrl } },
  );
  if (check.error) throw check.error;
  return check.status ?? 1;
}

/**
 * Every column, constraint and index of `tables`, one line each, in PostgreSQL's own words.
 * Indexes behind constraints are described by their constraint; `skipIndexes` are left out.
 */
async function describeSchema(url: string, tables: string[], skipIndexes: string[]): Promise<string[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ line: string }>(
      `WITH t AS (
         SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') AND c.relname = ANY ($1)
       )
       SELECT format('column %s.%s %s%s%s', t.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                CASE WHEN a.attgenerated = 's' THEN ' GENERATED ALWAYS AS ' || pg_get_expr(d.adbin, d.adrelid) || ' STORED'
                     WHEN d.adbin IS NOT NULL THEN ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) ELSE '' END) AS line
         FROM t JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       UNION ALL
       SELECT format('constraint %s.%s %s', t.relname, con.conname, pg_get_constraintdef(con.oid))
         FROM t JOIN pg_constraint con ON con.conrelid = t.oid AND con.contype IN ('p', 'u', 'f', 'c', 'x')
       UNION ALL
       SELECT format('index %s.%s %s', t.relname, i.relname, pg_get_indexdef(i.oid))
         FROM t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
        WHERE NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.oid AND con.conrelid = t.oid)
          AND i.relname <> ALL ($2)
       ORDER BY 1`,
      [tables, skipIndexes],
    );
    return rows.map((row) => row.line);
  } finally {
    await client.end();
  }
}

/** 2. The catalog of the migrated database against that of one made from the entities alone. */
async function catalogCheck(migratedUrl: string, fromEntitiesUrl: string): Promise<number> {
  console.log('\n2. PostgreSQL: the migrated schema against one made from the entities (synchronize)');
  const fromEntities = dataSource(fromEntitiesUrl, [ENTITIES]);
  await fromEntities.initialize();
  let tables: string[];
  let skipIndexes: string[];
  try {
    await fromEntities.synchronize();
    const metadatas = fromEntities.entityMetadatas.filter((m) => m.tableType === 'regular');
    tables = metadatas.map((m) => m.tableName);
    // Declared by name only, because TypeORM cannot express them (such as INCLUDE columns).
    skipIndexes = metadatas.flatMap((m) => m.indices.filter((i) => !i.synchronize).map((i) => i.name));
  } finally {
    await fromEntities.destroy();
  }
  const migrated = await describeSchema(migratedUrl, tables, skipIndexes);
  const declared = await describeSchema(fromEntitiesUrl, tables, skipIndexes);
  const onlyMigrated = migrated.filter((line) => !declared.includes(line));
  const onlyDeclared = declared.filter((line) => !migrated.includes(line));
  if (onlyMigrated.length === 0 && onlyDeclared.length === 0) {
    console.log(`The same ${migrated.length} columns, constraints and indexes in ${tables.length} tables`);
    return 0;
  }
  for (const line of onlyMigrated) console.log(`  migrations only: ${line}`);
  for (const line of onlyDeclared) console.log(`  entities only:   ${line}`);
  return 1;
}

async function main(): Promise<number> {
  const databases = await scratchDatabases('migration-check');
  const prefix = `tasklane_migration_check_${process.pid}_${Date.now()}`;
  const names = { migrated: `${prefix}_migrated`, fromEntities: `${prefix}_entities` };
  try {
    const migratedUrl = await databases.create(names.migrated);
    const fromEntitiesUrl = await databases.create(names.fromEntities);
    console.log(`Applying the migrations to a fresh database (${names.migrated}, on ${databases.where})`);
    // As `npm run cli -- migrate` does: the migrations alone, without the entities.
    const migrated = dataSource(migratedUrl);
    await migrated.initialize();
    try {
      await runMigrationsLocked(migrated, (line) => console.log(`  ${line}`));
    } finally {
      await migrated.destroy();
    }

    const status = Math.max(typeormCheck(migratedUrl), await catalogCheck(migratedUrl, fromEntitiesUrl));
    if (status !== 0) {
      console.error(
        '\nmigration:check: the entities and the migrations describe different schemas (above: what differs). ' +
          'Fix the entity, or add a migration: see docs/schema-changes.md.',
      );
    }
    return status;
  } finally {
    await databases.release();
  }
}

main().then(
  (status) => process.exit(status),
  (error: unknown) => {
    console.error('migration:check failed:', error);
    process.exit(1);
  },
);
