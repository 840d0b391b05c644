import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrgsProjectsTasksAudit1763990000000 implements MigrationInterface {
  name = 'CreateOrgsProjectsTasksAudit1763990000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE orgs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name text NOT NULL,
        slug text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT orgs_slug_key UNIQUE (slug)
      )`);

    await db.query(`
      CREATE TABLE memberships (
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        PRIMARY KEY (org_id, user_id)
      )`);
    // "my orgs" and the tenancy check of every item route start from the user.
    await db.query(`CREATE INDEX memberships_user_idx ON memberships (user_id, org_id) INCLUDE (role)`);
    await db.query(`CREATE INDEX memberships_org_created_idx ON memberships (org_id, created_at, user_id)`);

    await db.query(`
      CREATE TABLE projects (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        key text NOT NULL,
        name text NOT NULL,
        description text NOT NULL DEFAULT '',
        archived boolean NOT NULL DEFAULT false,
        -- the last task number handed out; incremented under the row lock, so numbers have no gaps
        task_seq integer NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        CONSTRAINT projects_org_key_key UNIQUE (org_id, key)
      )`);
    await db.query(`CREATE INDEX projects_org_created_idx ON projects (org_id, created_at, id)`);
    await db.query(`CREATE INDEX projects_org_name_idx ON projects (org_id, name, id)`);

    await db.query(`
      CREATE TABLE tasks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        project_id uuid NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
        -- copied from the project (which never changes org) for the org-wide list
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        -- the project's key, fixed at its creation, for task keys such as ENG-42
        project_key text NOT NULL,
        number integer NOT NULL,
        title text NOT NULL,
        description text NOT NULL DEFAULT '',
        status text NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'in_progress', 'done', 'canceled')),
        priority text NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
        priority_rank smallint GENERATED ALWAYS AS (
          CASE priority WHEN 'low' THEN 1 WHEN 'medium' THEN 2 WHEN 'high' THEN 3 ELSE 4 END
        ) STORED,
        assignee_id uuid REFERENCES users (id),
        due_date date,
        labels text[] NOT NULL DEFAULT '{}',
        created_by uuid NOT NULL REFERENCES users (id),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1,
        search tsvector GENERATED ALWAYS AS (
          to_tsvector('simple', title || ' ' || description)
        ) STORED,
        CONSTRAINT tasks_project_number_key UNIQUE (project_id, number)
      )`);
    // One index per sort, within a project and across an org; the id breaks ties.
    for (const scope of ['project_id', 'org_id']) {
      const prefix = scope === 'project_id' ? 'tasks_project' : 'tasks_org';
      await db.query(`CREATE INDEX ${prefix}_created_idx ON tasks (${scope}, created_at, id)`);
      await db.query(`CREATE INDEX ${prefix}_updated_idx ON tasks (${scope}, updated_at, id)`);
      await db.query(`CREATE INDEX ${prefix}_due_idx ON tasks (${scope}, due_date, id)`);
      await db.query(`CREATE INDEX ${prefix}_priority_idx ON tasks (${scope}, priority_rank, id)`);
    }
    await db.query(`CREATE INDEX tasks_org_number_idx ON tasks (org_id, number, id)`);
    await db.query(`CREATE INDEX tasks_status_idx ON tasks (project_id, status)`);
    await db.query(`CREATE INDEX tasks_org_status_idx ON tasks (org_id, status)`);
    await db.query(`CREATE INDEX tasks_assignee_idx ON tasks (assignee_id) WHERE assignee_id IS NOT NULL`);
    await db.query(`CREATE INDEX tasks_labels_idx ON tasks USING gin (labels)`);
    await db.query(`CREATE INDEX tasks_search_idx ON tasks USING gin (search)`);

    // No foreign key to orgs: the trail of a deleted org outlives it.
    await db.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL,
        actor_id uuid,
        action text NOT NULL,
        entity_type text NOT NULL,
        entity_id uuid NOT NULL,
        changes jsonb NOT NULL DEFAULT '{}',
        request_id text,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX audit_events_org_created_idx ON audit_events (org_id, created_at, id)`);
    await db.query(`CREATE INDEX audit_events_entity_idx ON audit_events (org_id, entity_type, entity_id, created_at)`);
    await db.query(`CREATE INDEX audit_events_actor_idx ON audit_events (org_id, actor_id, created_at)`);
    await db.query(`CREATE INDEX audit_events_action_idx ON audit_events (org_id, action, created_at)`);

    await db.query(`
      CREATE TABLE idempotency_keys (
        user_id uuid NOT NULL,
        key text NOT NULL,
        request_hash text NOT NULL,
        state text NOT NULL CHECK (state IN ('in_progress', 'completed')),
        response_status integer,
        response_body json, -- json, not jsonb: a replay returns the body exactly as first sent
        response_location text,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3) NOT NULL,
        PRIMARY KEY (user_id, key)
      )`);
    await db.query(`CREATE INDEX idempotency_keys_expires_idx ON idempotency_keys (expires_at)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE idempotency_keys');
    await db.query('DROP TABLE audit_events');
    await db.query('DROP TABLE tasks');
    await db.query('DROP TABLE projects');
    await db.query('DROP TABLE memberships');
    await db.query('DROP TABLE orgs');
  }
}
