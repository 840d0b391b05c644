import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Webhooks (contract §19):
 * - `webhooks`: an org's subscriptions; the signing secret sealed (AES-256-GCM), so that it can
 *   sign and is not readable from the database or its backups;
 * - `webhook_events`: each event's body, stored once as the exact bytes sent, so that every
 *   retry and redelivery sends the same body under the same id;
 * - `webhook_deliveries`: one event to one webhook, with its attempts (the delivery log).
 */
export class Webhooks1764800000000 implements MigrationInterface {
  name = 'Webhooks1764800000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`
      CREATE TABLE webhooks (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        url text NOT NULL,
        events text[] NOT NULL,
        description text NOT NULL DEFAULT '',
        active boolean NOT NULL DEFAULT true,
        secret_sealed text NOT NULL,
        -- attempts that failed since the last that succeeded (the /metrics gauge of failing webhooks)
        consecutive_failures integer NOT NULL DEFAULT 0,
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now(),
        version integer NOT NULL DEFAULT 1
      )`);
    await db.query('CREATE INDEX webhooks_org_created_idx ON webhooks (org_id, created_at, id)');

    await db.query(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        org_id uuid NOT NULL REFERENCES orgs (id) ON DELETE CASCADE,
        type text NOT NULL,
        payload text NOT NULL,
        created_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    await db.query('CREATE INDEX webhook_events_org_idx ON webhook_events (org_id)');

    await db.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        webhook_id uuid NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        event_id uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_status_code integer,
        last_error text,
        next_attempt_at timestamptz(3),
        created_at timestamptz(3) NOT NULL DEFAULT now(),
        updated_at timestamptz(3) NOT NULL DEFAULT now()
      )`);
    // The delivery log, newest first; and the deliveries of an event (its deletion cascades).
    await db.query(
      'CREATE INDEX webhook_deliveries_webhook_created_idx ON webhook_deliveries (webhook_id, created_at, id)',
    );
    await db.query('CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (event_id)');
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query('DROP TABLE webhook_deliveries');
    await db.query('DROP TABLE webhook_events');
    await db.query('DROP TABLE webhooks');
  }
}
