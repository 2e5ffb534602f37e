import { Injectable } from '@nestjs/common';
import { execute, firstRow, rows } from '../../database/sql';
import { Transactions } from '../../database/transactions';
import type { MicaRecord } from './esma.normalizer';
import { ISSUER_COLUMNS, IssuerRow } from './issuer.row';
import type { RegisterName } from './registers';

export interface FileVersion {
  source: string;
  etag: string | null;
  lastModified: string | null;
}

export interface IssuerUpsert {
  record: MicaRecord;
  hash: string;
  searchText: string;
}

export interface IssuerChange {
  record: MicaRecord;
  change: 'added' | 'changed' | 'removed';
  fields: string[];
}

const INSERT_COLUMNS = [
  'id',
  'register',
  'license_type',
  'entity_type',
  'entity_name',
  'entity_identifier',
  'commercial_name',
  'country',
  'country_code',
  'national_authority',
  'address',
  'websites',
  'website_platform',
  'authorization_date',
  'authorization_end_date',
  'services',
  'passported_countries',
  'comments',
  'details',
  'search_text',
  'content_hash',
  'source_sha256',
  'source_fetched_at',
];
const CASTS: Record<string, string> = {
  websites: '::text[]',
  services: '::text[]',
  passported_countries: '::text[]',
  details: '::jsonb',
  authorization_date: '::date',
  authorization_end_date: '::date',
  source_fetched_at: '::timestamptz',
};

/** The SQL of importing register files: the issuers, their change log, the file versions and the sync runs. */
@Injectable()
export class RegisterRepository {
  constructor(private readonly tx: Transactions) {}

  /** Serialises imports of one register across processes and replicas (until the transaction ends). */
  async lockRegister(register: RegisterName): Promise<void> {
    await execute(this.tx.manager, `SELECT pg_advisory_xact_lock(hashtext($1))`, [`mica_register:${register}`]);
  }

  currentFile(register: RegisterName): Promise<{ sha256: string; row_count: number } | undefined> {
    return firstRow(this.tx.manager, `SELECT sha256, row_count FROM mica_register_files WHERE register = $1`, [register]);
  }

  /** Where the register was last fetched from, with the validators of that response. */
  knownFile(register: RegisterName): Promise<{ etag: string | null; last_modified: string | null; source: string } | undefined> {
    return firstRow(this.tx.manager, `SELECT etag, last_modified, source FROM mica_register_files WHERE register = $1`, [register]);
  }

  /** The same file again: only the check time and where it came from move. */
  async markUnchanged(register: RegisterName, file: FileVersion): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE mica_register_files SET checked_at = now(), source = $2, etag = $3, last_modified = $4 WHERE register = $1`,
      [register, file.source, file.etag, file.lastModified],
    );
  }

  /** The source answered 304 Not Modified. */
  async markChecked(register: RegisterName): Promise<void> {
    await execute(this.tx.manager, `UPDATE mica_register_files SET checked_at = now() WHERE register = $1`, [register]);
  }

  issuersOf(register: RegisterName): Promise<Array<IssuerRow & { content_hash: string }>> {
    return rows(this.tx.manager, `SELECT ${ISSUER_COLUMNS}, i.content_hash FROM mica_issuers i WHERE i.register = $1`, [register]);
  }

  async upsertIssuers(batch: IssuerUpsert[], sha256: string, fetchedAt: Date): Promise<void> {
    const params: unknown[] = [];
    const values = batch.map(({ record: r, hash, searchText }) => {
      const row = [
        r.id,
        r.register,
        r.licenseType,
        r.entityType,
        r.entityName,
        r.entityIdentifier,
        r.commercialName,
        r.country,
        r.countryCode,
        r.nationalAuthority,
        r.address,
        r.websites,
        r.websitePlatform,
        r.authorizationDate,
        r.authorizationEndDate,
        r.services,
        r.passportedCountries,
        r.comments,
        JSON.stringify(r.details),
        searchText,
        hash,
        sha256,
        fetchedAt,
      ];
      const placeholders = row.map((v, i) => {
        params.push(v);
        return `$${params.length}${CASTS[INSERT_COLUMNS[i]] ?? ''}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const updates = INSERT_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = EXCLUDED.${c}`);
    await execute(
      this.tx.manager,
      `INSERT INTO mica_issuers (${INSERT_COLUMNS.join(', ')}) VALUES ${values.join(', ')}
       ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}, updated_at = now()`,
      params,
    );
  }

  async deleteIssuers(ids: string[]): Promise<void> {
    await execute(this.tx.manager, `DELETE FROM mica_issuers WHERE id = ANY($1::varchar[])`, [ids]);
  }

  /** Unchanged records now also stem from this file version. */
  async restampIssuers(register: RegisterName, sha256: string, fetchedAt: Date): Promise<void> {
    await execute(
      this.tx.manager,
      `UPDATE mica_issuers SET source_sha256 = $2, source_fetched_at = $3 WHERE register = $1 AND source_sha256 <> $2`,
      [register, sha256, fetchedAt],
    );
  }

  async logChanges(register: RegisterName, batch: IssuerChange[], sha256: string): Promise<void> {
    const params: unknown[] = [];
    const values = batch.map(({ record, change, fields }) => {
      params.push(record.id, register, record.licenseType, change, record.entityName, record.countryCode, fields, sha256);
      const n = params.length;
      return `($${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}::text[], $${n})`;
    });
    await execute(
      this.tx.manager,
      `INSERT INTO mica_changes (issuer_id, register, license_type, change, entity_name, country_code, fields, source_sha256) VALUES ${values.join(', ')}`,
      params,
    );
  }

  async recordFile(register: RegisterName, sha256: string, fetchedAt: Date, rowCount: number, file: FileVersion): Promise<void> {
    await execute(
      this.tx.manager,
      `INSERT INTO mica_register_files (register, sha256, fetched_at, row_count, source, etag, last_modified, imported_at, checked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now())
       ON CONFLICT (register) DO UPDATE SET sha256 = EXCLUDED.sha256, fetched_at = EXCLUDED.fetched_at, row_count = EXCLUDED.row_count,
         source = EXCLUDED.source, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, imported_at = now(), checked_at = now()`,
      [register, sha256, fetchedAt, rowCount, file.source, file.etag, file.lastModified],
    );
  }

  async recordSyncRun(
    trigger: string,
    source: string,
    startedAt: Date,
    ok: boolean,
    report: unknown,
  ): Promise<{ id: string; finished_at: Date }> {
    const row = await firstRow<{ id: string; finished_at: Date }>(
      this.tx.manager,
      `INSERT INTO mica_sync_runs (trigger, source, started_at, ok, report) VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id, finished_at`,
      [trigger, source, startedAt, ok, JSON.stringify(report)],
    );
    return row!;
  }
}
