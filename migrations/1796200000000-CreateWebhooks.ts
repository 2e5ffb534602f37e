import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed webhooks: endpoints (owned by an instance or a MiCA account), the outbox of events written
 * in the transaction of the change that caused them, one delivery per event and endpoint, and every
 * attempt of it. Endpoint, delivery and attempt rows go with their owner (ON DELETE CASCADE).
 */
export class CreateWebhooks1796200000000 implements MigrationInterface {
  name = 'CreateWebhooks1796200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_endpoints (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        instance_id uuid REFERENCES instances (id) ON DELETE CASCADE,
        developer_id uuid REFERENCES mica_developers (id) ON DELETE CASCADE,
        url varchar(2048) NOT NULL,
        description varchar(500),
        events text[],
        enabled boolean NOT NULL DEFAULT true,
        disabled_reason varchar(500),
        signing_key bytea NOT NULL,
        previous_signing_key bytea,
        previous_key_expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_endpoints_one_owner CHECK ((instance_id IS NULL) <> (developer_id IS NULL)),
        CONSTRAINT webhook_endpoints_key_length CHECK (octet_length(signing_key) = 32)
      )`);
    await q.query(
      `CREATE INDEX webhook_endpoints_instance_idx ON webhook_endpoints (instance_id, created_at DESC) WHERE instance_id IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX webhook_endpoints_developer_idx ON webhook_endpoints (developer_id, created_at DESC) WHERE developer_id IS NOT NULL`,
    );

    await q.query(`
      CREATE TABLE webhook_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        instance_id uuid,
        developer_id uuid,
        type varchar(64) NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`CREATE INDEX webhook_events_created_idx ON webhook_events (created_at)`);

    await q.query(`
      CREATE TABLE webhook_deliveries (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        event_id uuid NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
        endpoint_id uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
        status varchar(16) NOT NULL DEFAULT 'PENDING',
        attempts int NOT NULL DEFAULT 0,
        next_attempt_at timestamptz DEFAULT now(),
        lease_until timestamptz,
        last_response_status int,
        last_error varchar(500),
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT webhook_deliveries_status CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED', 'CANCELLED')),
        CONSTRAINT webhook_deliveries_one_per_endpoint UNIQUE (event_id, endpoint_id)
      )`);
    // The worker's claim: due pending deliveries, oldest first.
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status = 'PENDING'`);
    await q.query(`CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC)`);

    await q.query(`
      CREATE TABLE webhook_attempts (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        delivery_id uuid NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
        attempt int NOT NULL,
        at timestamptz NOT NULL DEFAULT now(),
        outcome varchar(16) NOT NULL,
        response_status int,
        error varchar(500),
        duration_ms int NOT NULL,
        next_attempt_at timestamptz,
        CONSTRAINT webhook_attempts_once UNIQUE (delivery_id, attempt)
      )`);

    // The notice sweep looks for keys whose expiry (own, or end of overlap) comes within a window.
    await q.query(
      `CREATE INDEX instance_keys_expiry_idx ON instance_keys (expires_at) WHERE expires_at IS NOT NULL AND status <> 'REVOKED'`,
    );

    // Time-driven events are emitted once per key and threshold: the unique key is the backstop.
    await q.query(`
      CREATE TABLE webhook_notices (
        key_id uuid NOT NULL,
        kind varchar(32) NOT NULL,
        threshold_at timestamptz NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (key_id, kind, threshold_at)
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE webhook_notices`);
    await q.query(`DROP INDEX instance_keys_expiry_idx`);
    await q.query(`DROP TABLE webhook_attempts`);
    await q.query(`DROP TABLE webhook_deliveries`);
    await q.query(`DROP TABLE webhook_events`);
    await q.query(`DROP TABLE webhook_endpoints`);
  }
}
