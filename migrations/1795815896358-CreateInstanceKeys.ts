import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateInstanceKeys1795815896358 implements MigrationInterface {
  name = 'CreateInstanceKeys1795815896358';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE instance_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        instance_id uuid NOT NULL REFERENCES instances (id) ON DELETE CASCADE,
        name varchar(100) NOT NULL,
        key_digest bytea NOT NULL,
        key_prefix varchar(32) NOT NULL,
        key_hint varchar(8) NOT NULL,
        status varchar(20) NOT NULL DEFAULT 'ACTIVE',
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz,
        paused_until timestamptz,
        rotated_at timestamptz,
        revoked_at timestamptz,
        replaces_key_id uuid REFERENCES instance_keys (id) ON DELETE SET NULL,
        replaced_by_key_id uuid REFERENCES instance_keys (id) ON DELETE SET NULL,
        last_used_at timestamptz,
        request_count bigint NOT NULL DEFAULT 0,
        CONSTRAINT instance_keys_status_valid CHECK (status IN ('ACTIVE', 'PAUSED', 'PENDING_ROTATION', 'REVOKED')),
        CONSTRAINT instance_keys_digest_length CHECK (octet_length(key_digest) = 32),
        CONSTRAINT instance_keys_paused_has_end CHECK (status <> 'PAUSED' OR paused_until IS NOT NULL),
        CONSTRAINT instance_keys_rotation_has_end CHECK (status <> 'PENDING_ROTATION' OR expires_at IS NOT NULL)
      )`);
    await q.query(`CREATE UNIQUE INDEX instance_keys_digest_key ON instance_keys (key_digest)`);
    // Backstop for "a key is rotated at most once": a second successor of the same key cannot exist.
    await q.query(`CREATE UNIQUE INDEX instance_keys_one_successor ON instance_keys (replaces_key_id) WHERE replaces_key_id IS NOT NULL`);
    await q.query(`CREATE INDEX instance_keys_instance_idx ON instance_keys (instance_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE instance_keys`);
  }
}
