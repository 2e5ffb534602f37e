import type { MigrationInterface, QueryRunner } from 'typeorm';

/** SPEC §12: a key may be narrower than its instance. NULL in each column means "no restriction". */
export class AddKeyRestrictions1796100000000 implements MigrationInterface {
  name = 'AddKeyRestrictions1796100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE instance_keys
        ADD COLUMN services text[],
        ADD COLUMN allowed_cidrs text[],
        ADD COLUMN rate_limit_per_minute integer,
        ADD CONSTRAINT instance_keys_allowed_cidrs_bound CHECK (allowed_cidrs IS NULL OR cardinality(allowed_cidrs) BETWEEN 1 AND 50),
        ADD CONSTRAINT instance_keys_rate_limit_positive CHECK (rate_limit_per_minute IS NULL OR rate_limit_per_minute > 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE instance_keys DROP COLUMN services, DROP COLUMN allowed_cidrs, DROP COLUMN rate_limit_per_minute`);
  }
}
