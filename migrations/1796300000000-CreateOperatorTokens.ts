import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOperatorTokens1796300000000 implements MigrationInterface {
  name = 'CreateOperatorTokens1796300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE operator_tokens (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(100) NOT NULL,
        token_digest bytea NOT NULL,
        token_prefix varchar(18) NOT NULL,
        token_hint varchar(4) NOT NULL,
        scopes text[] NOT NULL,
        -- NULL: every instance; an array (possibly empty): only those instances.
        instance_refs text[],
        expires_at timestamptz,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by_type varchar(16) NOT NULL,
        created_by_id uuid,
        created_by_name varchar(100),
        revoked_at timestamptz,
        last_used_at timestamptz,
        request_count bigint NOT NULL DEFAULT 0,
        CONSTRAINT operator_tokens_digest_length CHECK (octet_length(token_digest) = 32),
        CONSTRAINT operator_tokens_scopes_valid CHECK (
          cardinality(scopes) > 0 AND scopes <@ ARRAY['instances:read','instances:write','keys:read','keys:write','webhooks:write',
            'mica:read','mica:write','register:sync','audit:read','tokens:manage']::text[]),
        CONSTRAINT operator_tokens_creator_valid CHECK (created_by_type IN ('admin', 'operator'))
      )`);
    await q.query(`CREATE UNIQUE INDEX operator_tokens_digest_key ON operator_tokens (token_digest)`);
    await q.query(`CREATE INDEX operator_tokens_created_idx ON operator_tokens (created_at DESC, id DESC)`);
    // The audit trail names an operator token by id and by the name it had when it acted.
    await q.query(`ALTER TABLE audit_events ADD COLUMN actor_name varchar(100)`);
    // A token's own trail: what it did, and what was done to it.
    await q.query(`CREATE INDEX audit_events_operator_actor_idx ON audit_events (actor_id, at DESC) WHERE actor_type = 'operator'`);
    await q.query(
      `CREATE INDEX audit_events_operator_target_idx ON audit_events (target_id, at DESC) WHERE target_type = 'operator_token'`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX audit_events_operator_target_idx`);
    await q.query(`DROP INDEX audit_events_operator_actor_idx`);
    await q.query(`ALTER TABLE audit_events DROP COLUMN actor_name`);
    await q.query(`DROP TABLE operator_tokens`);
  }
}
