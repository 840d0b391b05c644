import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Invitations to an org by email, and password-reset tokens. Both tokens are stored only as
 * their SHA-256 (the token itself exists only in the mail). An invitation's status is derived
 * from its timestamps (accepted, revoked, expired, else pending).
 */
export class InvitationsAndPasswordResets1764600000000 implements MigrationInterface {
  name = 'InvitationsAndPasswordResets1764600000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE invitations (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        email text NOT NULL,
        role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
        token_hash bytea NOT NULL UNIQUE,
        invited_by uuid REFERENCES users (id) ON DELETE SET NULL,
        expires_at timestamptz(3) NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        accepted_at timestamptz(3),
        accepted_by uuid REFERENCES users (id) ON DELETE SET NULL,
        revoked_at timestamptz(3)
      )`);
    // The org's list, newest first; and "is this email already invited here?".
    await db.query('CREATE INDEX invitations_org_created_idx ON invitations (org_id, created_at, id)');
    await db.query(
      'CREATE INDEX invitations_open_email_idx ON invitations (org_id, email) WHERE accepted_at IS NULL AND revoked_at IS NULL',
    );

    await db.query(`
      CREATE TABLE password_reset_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        -- the address the link was mailed to: once the account's email changes, the link is dead
        sent_to text NOT NULL,
        token_hash bytea NOT NULL UNIQUE,
        expires_at timestamptz(3) NOT NULL,
        used_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query(
      'CREATE INDEX password_reset_tokens_user_idx ON password_reset_tokens (user_id) WHERE used_at IS NULL',
    );
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE password_reset_tokens');
    await db.query('DROP TABLE invitations');
  }
}
