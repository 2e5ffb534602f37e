import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * SPEC §13. A record is named by an HMAC of (principal, Idempotency-Key) and holds the answer sealed
 * with AES-256-GCM under a key derived from SECRETS_KEY and the Idempotency-Key: neither the
 * idempotency key nor the answer can be read from a dump.
 */
export class CreateIdempotencyRecords1796100000001 implements MigrationInterface {
  name = 'CreateIdempotencyRecords1796100000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE idempotency_records (
        id bytea PRIMARY KEY,
        fingerprint bytea NOT NULL,
        state varchar(12) NOT NULL,
        claim uuid NOT NULL,
        claimed_at timestamptz NOT NULL DEFAULT now(),
        status_code smallint,
        sealed bytea,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        CONSTRAINT idempotency_records_state_valid CHECK (state IN ('in_progress', 'done')),
        CONSTRAINT idempotency_records_done_has_answer CHECK (state <> 'done' OR (status_code IS NOT NULL AND sealed IS NOT NULL))
      )`);
    await q.query(`CREATE INDEX idempotency_records_expiry_idx ON idempotency_records (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE idempotency_records`);
  }
}
