import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Org API keys (contract §18), a second kind of principal:
 * - `api_keys`: the secret stored only as its SHA-256, found by its public prefix;
 * - `org_principals`: every principal's role in an org — people through memberships, keys that
 *   are neither revoked nor expired through api_keys — which the access lookups join instead of
 *   memberships, so that every "row for this principal" statement serves both kinds unchanged;
 * - audit events say which kind acted (`actor_type`);
 * - the creator, author and uploader of tasks, comments and attachments may be a key: their
 *   foreign keys to users go (ids stay UUIDs; the audit trail says which kind each one is).
 */
export class ApiKeysAndActorTypes1764700000000 implements MigrationInterface {
  name = 'ApiKeysAndActorTypes1764700000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE api_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        name text NOT NULL,
        role text NOT NULL CHECK (role IN ('admin', 'member', 'viewer')),
        prefix text NOT NULL UNIQUE,
        secret_hash bytea NOT NULL,
        created_by uuid REFERENCES users (id) ON DELETE SET NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        expires_at timestamptz(3),
        last_used_at timestamptz(3),
        revoked_at timestamptz(3)
      )`);
    await db.query('CREATE INDEX api_keys_org_created_idx ON api_keys (org_id, created_at, id)');
    // Keys that go with their org (ON DELETE CASCADE) are announced like revoked ones, so that no
    // instance keeps trusting one from memory (ApiKeyAuthenticator listens on this channel).
    await db.query(`
      CREATE FUNCTION api_keys_announce_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        PERFORM pg_notify('tasklane_api_keys_revoked', OLD.id::text);
        RETURN OLD;
      END $$`);
    await db.query(`
      CREATE TRIGGER api_keys_announce_deleted AFTER DELETE ON api_keys
        FOR EACH ROW EXECUTE FUNCTION api_keys_announce_deleted()`);
    await db.query(`
      CREATE VIEW org_principals AS
        SELECT org_id, user_id AS principal_id, role FROM memberships
        UNION ALL
        SELECT org_id, id AS principal_id, role FROM api_keys
          WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())`);

    await db.query(`ALTER TABLE audit_events ADD COLUMN actor_type text NOT NULL DEFAULT 'user'`);
    await db.query(
      `ALTER TABLE audit_events ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('user', 'apiKey'))`,
    );

    await db.query('ALTER TABLE tasks DROP CONSTRAINT tasks_created_by_fkey');
    await db.query('ALTER TABLE comments DROP CONSTRAINT comments_author_id_fkey');
    await db.query('ALTER TABLE attachments DROP CONSTRAINT attachments_uploaded_by_fkey');
  }

  async down(db: QueryRunner): Promise<void> {
    // Rows written by keys have no user to point at: they go with the keys.
    await db.query('DELETE FROM attachments WHERE uploaded_by IN (SELECT id FROM api_keys)');
    await db.query('DELETE FROM comments WHERE author_id IN (SELECT id FROM api_keys)');
    await db.query('DELETE FROM tasks WHERE created_by IN (SELECT id FROM api_keys)');
    await db.query(
      'ALTER TABLE attachments ADD CONSTRAINT attachments_uploaded_by_fkey FOREIGN KEY (uploaded_by) REFERENCES users (id)',
    );
    await db.query(
      'ALTER TABLE comments ADD CONSTRAINT comments_author_id_fkey FOREIGN KEY (author_id) REFERENCES users (id)',
    );
    await db.query(
      'ALTER TABLE tasks ADD CONSTRAINT tasks_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)',
    );
    await db.query('ALTER TABLE audit_events DROP CONSTRAINT audit_events_actor_type_check');
    await db.query('ALTER TABLE audit_events DROP COLUMN actor_type');
    await db.query('DROP VIEW org_principals');
    await db.query('DROP TABLE api_keys');
    await db.query('DROP FUNCTION api_keys_announce_deleted()');
  }
}
