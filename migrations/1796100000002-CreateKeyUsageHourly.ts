import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §17: usage per key and UTC hour, written by the batched usage flush. `requests` counts
 * admitted requests (so buckets sum to the key's request_count); refusals are counted by reason.
 * No foreign key: instance and MiCA keys share the table, and retention removes old rows.
 */
export class CreateKeyUsageHourly1796100000002 implements MigrationInterface {
  name = 'CreateKeyUsageHourly1796100000002';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE key_usage_hourly (
        key_kind varchar(16) NOT NULL,
        key_id uuid NOT NULL,
        hour timestamptz NOT NULL,
        requests bigint NOT NULL DEFAULT 0,
        refused_ip_not_allowed bigint NOT NULL DEFAULT 0,
        refused_service_not_enabled bigint NOT NULL DEFAULT 0,
        refused_rate_limited bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (key_kind, key_id, hour),
        CONSTRAINT key_usage_hourly_kind_valid CHECK (key_kind IN ('instance_key', 'mica_key'))
      )`);
    await q.query(`CREATE INDEX key_usage_hourly_hour_idx ON key_usage_hourly (hour)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE key_usage_hourly`);
  }
}
