import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateInstancesAndAuditEvents1795815113141 implements MigrationInterface {
  name = 'CreateInstancesAndAuditEvents1795815113141';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE EXTENSION IF NOT EXISTS pg_trgm`);
    await q.query(`
      CREATE TABLE instances (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        ref varchar(8) NOT NULL,
        name varchar(100) NOT NULL,
        services text[] NOT NULL DEFAULT '{}',
        status varchar(16) NOT NULL DEFAULT 'ACTIVE',
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        archived_at timestamptz,
        CONSTRAINT instances_ref_format CHECK (ref ~ '^[A-Za-z0-9]{8}$'),
        CONSTRAINT instances_status_valid CHECK (status IN ('ACTIVE', 'ARCHIVED')),
        CONSTRAINT instances_services_valid CHECK (services <@ ARRAY['customers','tokenization','trading','lending','custody']::text[])
      )`);
    await q.query(`CREATE UNIQUE INDEX instances_ref_key ON instances (ref)`);
    await q.query(`CREATE INDEX instances_created_idx ON instances (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX instances_name_trgm_idx ON instances USING gin (lower(name) gin_trgm_ops)`);

    await q.query(`
      CREATE TABLE audit_events (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        actor_type varchar(16) NOT NULL,
        actor_id varchar(64),
        action varchar(64) NOT NULL,
        target_type varchar(32),
        target_id varchar(64),
        instance_id uuid,
        developer_id uuid,
        ip varchar(64),
        request_id varchar(128),
        details jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX audit_events_instance_idx ON audit_events (instance_id, at DESC) WHERE instance_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_events_developer_idx ON audit_events (developer_id, at DESC) WHERE developer_id IS NOT NULL`);
    await q.query(`CREATE INDEX audit_events_at_idx ON audit_events (at DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP TABLE instances`);
  }
}
