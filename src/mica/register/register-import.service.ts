import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { JsonLogger } from '../../common/logging/json-logger';
import { canonicalJson, contentHash, MicaRecord, normaliseRegister } from './esma.normalizer';
import { EsmaParseError, parseEsmaCsv } from './esma.parser';
import { ISSUER_COLUMNS, IssuerRow, recordOfRow } from './issuer.row';
import type { RegisterName } from './registers';

/** One fetched or read version of a register file. */
export interface RegisterFile {
  register: RegisterName;
  content: Buffer;
  fetchedAt: Date;
  /** Where it came from: a URL or a file path. */
  source: string;
  etag?: string | null;
  lastModified?: string | null;
}

export type RegisterOutcomeKind = 'imported' | 'unchanged' | 'not_modified' | 'rejected' | 'failed';

export interface RegisterOutcome {
  register: RegisterName;
  outcome: RegisterOutcomeKind;
  sha256?: string;
  rows?: number;
  added?: number;
  changed?: number;
  removed?: number;
  message?: string;
}

/** Outcomes after which the register holds the latest data its source offers. */
export const SUCCESSFUL_OUTCOMES: RegisterOutcomeKind[] = ['imported', 'unchanged', 'not_modified'];

const BATCH = 100;
const INSERT_COLUMNS = [
  'id', 'register', 'license_type', 'entity_type', 'entity_name', 'entity_identifier', 'commercial_name', 'country', 'country_code',
  'national_authority', 'address', 'websites', 'website_platform', 'authorization_date', 'authorization_end_date', 'services',
  'passported_countries', 'comments', 'details', 'search_text', 'content_hash', 'source_sha256', 'source_fetched_at',
];
const COMPARED_FIELDS: Array<keyof MicaRecord> = [
  'entityName', 'entityIdentifier', 'commercialName', 'country', 'countryCode', 'nationalAuthority', 'address', 'websites',
  'websitePlatform', 'authorizationDate', 'authorizationEndDate', 'services', 'passportedCountries', 'comments', 'details',
];

class RefusedImport extends Error {}

function searchText(r: MicaRecord): string {
  return [r.entityName, r.entityIdentifier, r.commercialName, r.nationalAuthority].filter(Boolean).join(' ').toLowerCase();
}

/**
 * Loads one register file into mica_issuers: parse and normalise first (a file that cannot be read
 * never reaches the database), then one transaction per register that adds, changes and removes
 * records by their stable ids, logs each to mica_changes and notes the file version. The same file
 * again is recognised by its digest and changes nothing.
 */
@Injectable()
export class RegisterImportService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly logger: JsonLogger,
  ) {}

  async importFile(file: RegisterFile): Promise<RegisterOutcome> {
    const sha256 = createHash('sha256').update(file.content).digest('hex');
    let records: MicaRecord[];
    try {
      records = normaliseRegister(file.register, parseEsmaCsv(file.register, file.content));
    } catch (e) {
      if (!(e instanceof EsmaParseError)) throw e;
      return this.report({ register: file.register, outcome: 'rejected', sha256, message: e.message });
    }
    try {
      const outcome = await this.dataSource.transaction((manager) => this.apply(manager, file, sha256, records));
      return this.report(outcome);
    } catch (e) {
      if (e instanceof RefusedImport) return this.report({ register: file.register, outcome: 'rejected', sha256, rows: records.length, message: e.message });
      throw e;
    }
  }

  /** Notes that the source answered 304 Not Modified: the data stays, the check time moves. */
  async markChecked(register: RegisterName): Promise<void> {
    await this.dataSource.query(`UPDATE mica_register_files SET checked_at = now() WHERE register = $1`, [register]);
  }

  private report(outcome: RegisterOutcome): RegisterOutcome {
    // The log redactor masks anything shaped like a 64-hex secret, so the file version is logged by its prefix.
    const { sha256, ...rest } = outcome;
    this.logger.event(outcome.outcome === 'rejected' ? 'warn' : 'info', 'mica register import', { ...rest, fileVersion: sha256?.slice(0, 12) });
    return outcome;
  }

  private async apply(manager: EntityManager, file: RegisterFile, sha256: string, records: MicaRecord[]): Promise<RegisterOutcome> {
    const register = file.register;
    // Serialises imports of one register across processes and replicas.
    await manager.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`mica_register:${register}`]);
    const [current] = (await manager.query(`SELECT sha256, row_count FROM mica_register_files WHERE register = $1`, [register])) as Array<{
      sha256: string;
      row_count: number;
    }>;
    if (current?.sha256 === sha256) {
      await manager.query(`UPDATE mica_register_files SET checked_at = now(), source = $2, etag = $3, last_modified = $4 WHERE register = $1`, [
        register,
        file.source,
        file.etag ?? null,
        file.lastModified ?? null,
      ]);
      return { register, outcome: 'unchanged', sha256, rows: current.row_count };
    }
    if (current && current.row_count > 0) {
      const shrink = (current.row_count - records.length) / current.row_count;
      if (shrink > this.config.mica.maxShrinkRatio) {
        throw new RefusedImport(
          `${register}.csv has ${records.length} rows against ${current.row_count} at the last import: refused as truncated (more than ${Math.round(this.config.mica.maxShrinkRatio * 100)}% fewer).`,
        );
      }
    }

    const existingRows = (await manager.query(`SELECT ${ISSUER_COLUMNS}, i.content_hash FROM mica_issuers i WHERE i.register = $1`, [register])) as Array<
      IssuerRow & { content_hash: string }
    >;
    const existing = new Map(existingRows.map((r) => [r.id, r]));
    const incomingIds = new Set(records.map((r) => r.id));
    const upserts: Array<{ record: MicaRecord; hash: string }> = [];
    const changes: Array<{ record: MicaRecord; change: 'added' | 'changed' | 'removed'; fields: string[] }> = [];
    for (const record of records) {
      const hash = contentHash(record);
      const old = existing.get(record.id);
      if (!old) {
        upserts.push({ record, hash });
        changes.push({ record, change: 'added', fields: [] });
      } else if (old.content_hash !== hash) {
        const before = recordOfRow(old);
        upserts.push({ record, hash });
        changes.push({ record, change: 'changed', fields: COMPARED_FIELDS.filter((f) => canonicalJson(before[f]) !== canonicalJson(record[f])) });
      }
    }
    const removed = existingRows.filter((r) => !incomingIds.has(r.id));
    for (const r of removed) changes.push({ record: recordOfRow(r), change: 'removed', fields: [] });

    for (let i = 0; i < upserts.length; i += BATCH) await this.upsert(manager, upserts.slice(i, i + BATCH), sha256, file.fetchedAt);
    if (removed.length) await manager.query(`DELETE FROM mica_issuers WHERE id = ANY($1::varchar[])`, [removed.map((r) => r.id)]);
    // Unchanged records now also stem from this file version.
    await manager.query(`UPDATE mica_issuers SET source_sha256 = $2, source_fetched_at = $3 WHERE register = $1 AND source_sha256 <> $2`, [
      register,
      sha256,
      file.fetchedAt,
    ]);
    for (let i = 0; i < changes.length; i += BATCH) {
      const batch = changes.slice(i, i + BATCH);
      const params: unknown[] = [];
      const values = batch.map(({ record, change, fields }) => {
        params.push(record.id, register, record.licenseType, change, record.entityName, record.countryCode, fields, sha256);
        const n = params.length;
        return `($${n - 7}, $${n - 6}, $${n - 5}, $${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}::text[], $${n})`;
      });
      await manager.query(
        `INSERT INTO mica_changes (issuer_id, register, license_type, change, entity_name, country_code, fields, source_sha256) VALUES ${values.join(', ')}`,
        params,
      );
    }
    await manager.query(
      `INSERT INTO mica_register_files (register, sha256, fetched_at, row_count, source, etag, last_modified, imported_at, checked_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, now(), now())
       ON CONFLICT (register) DO UPDATE SET sha256 = EXCLUDED.sha256, fetched_at = EXCLUDED.fetched_at, row_count = EXCLUDED.row_count,
         source = EXCLUDED.source, etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, imported_at = now(), checked_at = now()`,
      [register, sha256, file.fetchedAt, records.length, file.source, file.etag ?? null, file.lastModified ?? null],
    );
    const count = (kind: string) => changes.filter((c) => c.change === kind).length;
    return { register, outcome: 'imported', sha256, rows: records.length, added: count('added'), changed: count('changed'), removed: count('removed') };
  }

  private async upsert(manager: EntityManager, batch: Array<{ record: MicaRecord; hash: string }>, sha256: string, fetchedAt: Date): Promise<void> {
    const params: unknown[] = [];
    const casts: Record<string, string> = {
      websites: '::text[]',
      services: '::text[]',
      passported_countries: '::text[]',
      details: '::jsonb',
      authorization_date: '::date',
      authorization_end_date: '::date',
      source_fetched_at: '::timestamptz',
    };
    const values = batch.map(({ record: r, hash }) => {
      const row = [
        r.id, r.register, r.licenseType, r.entityType, r.entityName, r.entityIdentifier, r.commercialName, r.country, r.countryCode,
        r.nationalAuthority, r.address, r.websites, r.websitePlatform, r.authorizationDate, r.authorizationEndDate, r.services,
        r.passportedCountries, r.comments, JSON.stringify(r.details), searchText(r), hash, sha256, fetchedAt,
      ];
      const placeholders = row.map((v, i) => {
        params.push(v);
        return `$${params.length}${casts[INSERT_COLUMNS[i]] ?? ''}`;
      });
      return `(${placeholders.join(', ')})`;
    });
    const updates = INSERT_COLUMNS.filter((c) => c !== 'id').map((c) => `${c} = EXCLUDED.${c}`);
    await manager.query(
      `INSERT INTO mica_issuers (${INSERT_COLUMNS.join(', ')}) VALUES ${values.join(', ')}
       ON CONFLICT (id) DO UPDATE SET ${updates.join(', ')}, updated_at = now()`,
      params,
    );
  }
}
