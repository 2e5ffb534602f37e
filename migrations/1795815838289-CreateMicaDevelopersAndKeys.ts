import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMicaDevelopersAndKeys1795815838289 implements MigrationInterface {
  name = 'CreateMicaDevelopersAndKeys1795815838289';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mica_developers (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        email varchar(254) NOT NULL,
        name varchar(100) NOT NULL,
        management_token_digest bytea NOT NULL,
        token_rotated_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mica_developers_token_digest_length CHECK (octet_length(management_token_digest) = 32)
      )`);
    // One account per address whatever its case; concurrent signups collide here, not in app code.
    await q.query(`CREATE UNIQUE INDEX mica_developers_email_key ON mica_developers (lower(email))`);
    await q.query(`CREATE UNIQUE INDEX mica_developers_token_digest_key ON mica_developers (management_token_digest)`);

    await q.query(`
      CREATE TABLE mica_keys (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        developer_id uuid NOT NULL REFERENCES mica_developers (id) ON DELETE CASCADE,
        name varchar(50) NOT NULL,
        key_digest bytea NOT NULL,
        key_prefix varchar(22) NOT NULL,
        key_hint varchar(4) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz,
        replaced_by_key_id uuid,
        last_used_at timestamptz,
        request_count bigint NOT NULL DEFAULT 0,
        CONSTRAINT mica_keys_digest_length CHECK (octet_length(key_digest) = 32)
      )`);
    await q.query(`CREATE UNIQUE INDEX mica_keys_digest_key ON mica_keys (key_digest)`);
    await q.query(`CREATE INDEX mica_keys_developer_idx ON mica_keys (developer_id, created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mica_keys`);
    await q.query(`DROP TABLE mica_developers`);
  }
}
