import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateMicaRegister1795815862779 implements MigrationInterface {
  name = 'CreateMicaRegister1795815862779';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE mica_issuers (
        id varchar(100) PRIMARY KEY,
        register varchar(8) NOT NULL,
        license_type varchar(16) NOT NULL,
        entity_type varchar(16) NOT NULL,
        entity_name text NOT NULL,
        entity_identifier varchar(20),
        commercial_name text,
        country text,
        country_code varchar(2),
        national_authority text,
        address text,
        websites text[] NOT NULL DEFAULT '{}',
        website_platform text,
        authorization_date date,
        authorization_end_date date,
        services text[] NOT NULL DEFAULT '{}',
        passported_countries text[] NOT NULL DEFAULT '{}',
        comments text,
        details jsonb NOT NULL DEFAULT '{}'::jsonb,
        search_text text NOT NULL,
        content_hash char(64) NOT NULL,
        source_sha256 char(64) NOT NULL,
        source_fetched_at timestamptz NOT NULL,
        first_seen_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT mica_issuers_license_valid CHECK (license_type IN ('CASP','ART','EMT','OTHER','NON_COMPLIANT'))
      )`);
    await q.query(`CREATE INDEX mica_issuers_register_idx ON mica_issuers (register)`);
    await q.query(`CREATE INDEX mica_issuers_license_idx ON mica_issuers (license_type)`);
    await q.query(`CREATE INDEX mica_issuers_country_idx ON mica_issuers (country_code)`);
    await q.query(`CREATE INDEX mica_issuers_auth_date_idx ON mica_issuers (authorization_date DESC, id)`);
    await q.query(`CREATE INDEX mica_issuers_name_idx ON mica_issuers (entity_name, id)`);
    // Substring search (LIKE '%term%') and word search both run on GIN indexes, never a scan.
    await q.query(`CREATE INDEX mica_issuers_search_trgm_idx ON mica_issuers USING gin (search_text gin_trgm_ops)`);
    await q.query(`CREATE INDEX mica_issuers_search_fts_idx ON mica_issuers USING gin (to_tsvector('simple', search_text))`);

    await q.query(`
      CREATE TABLE mica_register_files (
        register varchar(8) PRIMARY KEY,
        sha256 char(64) NOT NULL,
        fetched_at timestamptz NOT NULL,
        row_count integer NOT NULL,
        source text NOT NULL,
        etag text,
        last_modified text,
        imported_at timestamptz NOT NULL DEFAULT now(),
        checked_at timestamptz NOT NULL DEFAULT now()
      )`);

    await q.query(`
      CREATE TABLE mica_changes (
        id bigserial PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        issuer_id varchar(100) NOT NULL,
        register varchar(8) NOT NULL,
        license_type varchar(16) NOT NULL,
        change varchar(8) NOT NULL,
        entity_name text NOT NULL,
        country_code varchar(2),
        fields text[] NOT NULL DEFAULT '{}',
        source_sha256 char(64) NOT NULL,
        CONSTRAINT mica_changes_change_valid CHECK (change IN ('added','changed','removed'))
      )`);
    await q.query(`CREATE INDEX mica_changes_at_idx ON mica_changes (at DESC, id DESC)`);

    await q.query(`
      CREATE TABLE mica_sync_runs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        trigger varchar(16) NOT NULL,
        source text NOT NULL,
        started_at timestamptz NOT NULL,
        finished_at timestamptz NOT NULL DEFAULT now(),
        ok boolean NOT NULL,
        report jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
    await q.query(`CREATE INDEX mica_sync_runs_ok_idx ON mica_sync_runs (finished_at DESC) WHERE ok`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE mica_sync_runs`);
    await q.query(`DROP TABLE mica_changes`);
    await q.query(`DROP TABLE mica_register_files`);
    await q.query(`DROP TABLE mica_issuers`);
  }
}
