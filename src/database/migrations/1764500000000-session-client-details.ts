import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * What a session's owner sees of it (GET /auth/sessions): the user agent and IP address it was
 * signed in from, and when it was last used. `ip` is text, as the app saw it (`req.ip`, after
 * TRUST_PROXY), not inet: an IPv4-mapped address stays as written and nothing the proxy passed
 * on can fail an insert. Existing sessions were last used, as far as the database knows, when
 * their newest refresh token was issued (sign-in or the last refresh).
 */
export class SessionClientDetails1764500000000 implements MigrationInterface {
  name = 'SessionClientDetails1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE session_families
        ADD COLUMN user_agent text,
        ADD COLUMN ip text,
        ADD COLUMN last_used_at timestamptz(3)`);
    await db.query(`
      UPDATE session_families f
         SET last_used_at = (SELECT max(t.created_at) FROM refresh_tokens t WHERE t.family_id = f.id)
       WHERE f.revoked_at IS NULL`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`
      ALTER TABLE session_families
        DROP COLUMN last_used_at,
        DROP COLUMN ip,
        DROP COLUMN user_agent`);
  }
}
