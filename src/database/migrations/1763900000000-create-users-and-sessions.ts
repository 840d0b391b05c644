import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateUsersAndSessions1763900000000 implements MigrationInterface {
  name = 'CreateUsersAndSessions1763900000000';

  async up(db: QueryRunner): Promise<void> {
    // Timestamps keep millisecond precision so that they survive a round trip through JSON
    // and cursors unchanged.
    await db.query(`
      CREATE TABLE users (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email text NOT NULL,
        name text NOT NULL,
        password_hash text NOT NULL,
        role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        deleted_at timestamptz(3),
        version integer NOT NULL DEFAULT 1
      )`);
    // A deleted account frees its email address.
    await db.query(`CREATE UNIQUE INDEX users_email_key ON users (email) WHERE deleted_at IS NULL`);
    await db.query(`CREATE INDEX users_created_at_idx ON users (created_at, id) WHERE deleted_at IS NULL`);
    await db.query(`CREATE INDEX users_name_idx ON users (name, id) WHERE deleted_at IS NULL`);

    await db.query(`
      CREATE TABLE session_families (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        revoked_at timestamptz(3),
        revoked_reason text
      )`);
    await db.query(
      `CREATE INDEX session_families_active_user_idx ON session_families (user_id) WHERE revoked_at IS NULL`,
    );
    await db.query(
      `CREATE INDEX session_families_revoked_at_idx ON session_families (revoked_at) WHERE revoked_at IS NOT NULL`,
    );

    await db.query(`
      CREATE TABLE refresh_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        family_id uuid NOT NULL REFERENCES session_families (id) ON DELETE CASCADE,
        token_hash bytea NOT NULL UNIQUE,
        expires_at timestamptz(3) NOT NULL,
        used_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query(`CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id)`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE refresh_tokens');
    await db.query('DROP TABLE session_families');
    await db.query('DROP TABLE users');
  }
}
