import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leaked-key containment (SPEC §15) and operator control of MiCA accounts (SPEC §16).
 * - `leaked_at` on both key tables records when a secret-scanning report contained the key. A leaked
 *   instance key contained by pausing stays PAUSED with no end (until someone resumes or revokes it),
 *   so the "a pause has an end" check now admits that one case.
 * - MiCA accounts get a status: SUSPENDED (every key and the management token refused, the mailbox
 *   kept, so it cannot register again) and ERASED (name and email removed, which frees the mailbox:
 *   the unique index on lower(email) ignores NULLs).
 */
export class AddContainmentAndAccountStatus1796400000000 implements MigrationInterface {
  name = 'AddContainmentAndAccountStatus1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE instance_keys ADD COLUMN leaked_at timestamptz`);
    await q.query(`ALTER TABLE instance_keys DROP CONSTRAINT instance_keys_paused_has_end`);
    await q.query(
      `ALTER TABLE instance_keys ADD CONSTRAINT instance_keys_paused_has_end CHECK (status <> 'PAUSED' OR paused_until IS NOT NULL OR leaked_at IS NOT NULL)`,
    );
    await q.query(`ALTER TABLE mica_keys ADD COLUMN leaked_at timestamptz`);

    await q.query(`
      ALTER TABLE mica_developers
        ADD COLUMN status varchar(16) NOT NULL DEFAULT 'ACTIVE',
        ADD COLUMN suspended_at timestamptz,
        ADD COLUMN suspension_reason varchar(500),
        ADD COLUMN erased_at timestamptz,
        ALTER COLUMN email DROP NOT NULL,
        ALTER COLUMN name DROP NOT NULL,
        ADD CONSTRAINT mica_developers_status_valid CHECK (status IN ('ACTIVE', 'SUSPENDED', 'ERASED')),
        ADD CONSTRAINT mica_developers_suspended_has_time CHECK (status <> 'SUSPENDED' OR suspended_at IS NOT NULL),
        ADD CONSTRAINT mica_developers_erased_is_anonymous CHECK (status <> 'ERASED' OR (email IS NULL AND name IS NULL AND erased_at IS NOT NULL)),
        ADD CONSTRAINT mica_developers_identified_unless_erased CHECK (status = 'ERASED' OR (email IS NOT NULL AND name IS NOT NULL))`);
    await q.query(`CREATE INDEX mica_developers_created_idx ON mica_developers (created_at DESC, id DESC)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX mica_developers_created_idx`);
    await q.query(`DELETE FROM mica_developers WHERE status = 'ERASED'`);
    await q.query(`
      ALTER TABLE mica_developers
        DROP CONSTRAINT mica_developers_identified_unless_erased,
        DROP CONSTRAINT mica_developers_erased_is_anonymous,
        DROP CONSTRAINT mica_developers_suspended_has_time,
        DROP CONSTRAINT mica_developers_status_valid,
        ALTER COLUMN name SET NOT NULL,
        ALTER COLUMN email SET NOT NULL,
        DROP COLUMN erased_at,
        DROP COLUMN suspension_reason,
        DROP COLUMN suspended_at,
        DROP COLUMN status`);
    await q.query(`ALTER TABLE mica_keys DROP COLUMN leaked_at`);
    await q.query(`UPDATE instance_keys SET paused_until = now() + interval '100 years' WHERE status = 'PAUSED' AND paused_until IS NULL`);
    await q.query(`ALTER TABLE instance_keys DROP CONSTRAINT instance_keys_paused_has_end`);
    await q.query(
      `ALTER TABLE instance_keys ADD CONSTRAINT instance_keys_paused_has_end CHECK (status <> 'PAUSED' OR paused_until IS NOT NULL)`,
    );
    await q.query(`ALTER TABLE instance_keys DROP COLUMN leaked_at`);
  }
}
