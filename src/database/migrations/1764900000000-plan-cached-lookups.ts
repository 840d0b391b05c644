import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The hottest lookups — a task and a project with the principal's role in its org, the
 * principal's role on a task's org and in an org (the access checks of lists and writes) — as
 * PL/pgSQL functions, for behind a transaction pooler (DATABASE_POOLER=transaction). There a
 * statement cannot be a named prepared statement, so PostgreSQL would parse, rewrite (the
 * org_principals view) and plan it for every request; a PL/pgSQL function's query is planned once
 * per server connection and its plan kept, which works through any pooler. Same rows as the plain
 * statements in tasks.repository.ts, projects.repository.ts and access.repository.ts
 * (test/query-count.e2e-spec.ts compares them): when their columns change, a migration replaces these.
 */
export class PlanCachedLookups1764900000000 implements MigrationInterface {
  name = 'PlanCachedLookups1764900000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE FUNCTION task_for_principal(task_id uuid, principal_id uuid)
      RETURNS TABLE (id uuid, "projectId" uuid, "orgId" uuid, "projectKey" text, number integer, title text,
                     description text, status text, priority text, "assigneeId" uuid, "dueDate" text, labels text[],
                     "createdBy" uuid, "createdAt" timestamptz, "updatedAt" timestamptz, version integer, role text)
      LANGUAGE plpgsql STABLE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
          SELECT t.id, t.project_id, t.org_id, t.project_key, t.number, t.title, t.description, t.status, t.priority,
                 t.assignee_id, to_char(t.due_date, 'YYYY-MM-DD'), t.labels, t.created_by, t.created_at, t.updated_at,
                 t.version, m.role
            FROM tasks t JOIN org_principals m ON m.org_id = t.org_id AND m.principal_id = task_for_principal.principal_id
           WHERE t.id = task_for_principal.task_id;
      END $$`);
    await db.query(`
      CREATE FUNCTION project_for_principal(project_id uuid, principal_id uuid)
      RETURNS TABLE (id uuid, "orgId" uuid, key text, name text, description text, archived boolean,
                     "createdAt" timestamptz, "updatedAt" timestamptz, version integer, role text)
      LANGUAGE plpgsql STABLE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
          SELECT p.id, p.org_id, p.key, p.name, p.description, p.archived, p.created_at, p.updated_at, p.version, m.role
            FROM projects p JOIN org_principals m ON m.org_id = p.org_id AND m.principal_id = project_for_principal.principal_id
           WHERE p.id = project_for_principal.project_id;
      END $$`);
    await db.query(`
      CREATE FUNCTION role_on_task(task_id uuid, principal_id uuid)
      RETURNS TABLE ("orgId" uuid, role text)
      LANGUAGE plpgsql STABLE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
          SELECT t.org_id, m.role
            FROM tasks t JOIN org_principals m ON m.org_id = t.org_id AND m.principal_id = role_on_task.principal_id
           WHERE t.id = role_on_task.task_id;
      END $$`);
    await db.query(`
      CREATE FUNCTION role_in_org(org_id uuid, principal_id uuid)
      RETURNS TABLE (role text)
      LANGUAGE plpgsql STABLE AS $$
      #variable_conflict use_column
      BEGIN
        RETURN QUERY
          SELECT m.role FROM org_principals m WHERE m.org_id = role_in_org.org_id AND m.principal_id = role_in_org.principal_id;
      END $$`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP FUNCTION role_in_org(uuid, uuid)');
    await db.query('DROP FUNCTION role_on_task(uuid, uuid)');
    await db.query('DROP FUNCTION project_for_principal(uuid, uuid)');
    await db.query('DROP FUNCTION task_for_principal(uuid, uuid)');
  }
}
