import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { JsonLogger } from '../../common/logging/json-logger';
import { Transactions } from '../../database/transactions';
import { canonicalJson, contentHash, MicaRecord, normaliseRegister } from './esma.normalizer';
import { EsmaParseError, parseEsmaCsv } from './esma.parser';
import { recordOfRow } from './issuer.row';
import { IssuerChange, IssuerUpsert, RegisterRepository } from './register.repository';
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
const COMPARED_FIELDS: Array<keyof MicaRecord> = [
  'entityName',
  'entityIdentifier',
  'commercialName',
  'country',
  'countryCode',
  'nationalAuthority',
  'address',
  'websites',
  'websitePlatform',
  'authorizationDate',
  'authorizationEndDate',
  'services',
  'passportedCountries',
  'comments',
  'details',
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
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly tx: Transactions,
    private readonly registers: RegisterRepository,
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
      const outcome = await this.tx.run(() => this.apply(file, sha256, records));
      return this.report(outcome);
    } catch (e) {
      if (e instanceof RefusedImport)
        return this.report({ register: file.register, outcome: 'rejected', sha256, rows: records.length, message: e.message });
      throw e;
    }
  }

  /** Notes that the source answered 304 Not Modified: the data stays, the check time moves. */
  async markChecked(register: RegisterName): Promise<void> {
    await this.registers.markChecked(register);
  }

  private report(outcome: RegisterOutcome): RegisterOutcome {
    // The log redactor masks anything shaped like a 64-hex secret, so the file version is logged by its prefix.
    const { sha256, ...rest } = outcome;
    this.logger.event(outcome.outcome === 'rejected' ? 'warn' : 'info', 'mica register import', {
      ...rest,
      fileVersion: sha256?.slice(0, 12),
    });
    return outcome;
  }

  private async apply(file: RegisterFile, sha256: string, records: MicaRecord[]): Promise<RegisterOutcome> {
    const register = file.register;
    const version = { source: file.source, etag: file.etag ?? null, lastModified: file.lastModified ?? null };
    await this.registers.lockRegister(register);
    const current = await this.registers.currentFile(register);
    if (current?.sha256 === sha256) {
      await this.registers.markUnchanged(register, version);
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

    const existingRows = await this.registers.issuersOf(register);
    const existing = new Map(existingRows.map((r) => [r.id, r]));
    const incomingIds = new Set(records.map((r) => r.id));
    const upserts: IssuerUpsert[] = [];
    const changes: IssuerChange[] = [];
    for (const record of records) {
      const hash = contentHash(record);
      const old = existing.get(record.id);
      if (!old) {
        upserts.push({ record, hash, searchText: searchText(record) });
        changes.push({ record, change: 'added', fields: [] });
      } else if (old.content_hash !== hash) {
        const before = recordOfRow(old);
        upserts.push({ record, hash, searchText: searchText(record) });
        changes.push({
          record,
          change: 'changed',
          fields: COMPARED_FIELDS.filter((f) => canonicalJson(before[f]) !== canonicalJson(record[f])),
        });
      }
    }
    const removed = existingRows.filter((r) => !incomingIds.has(r.id));
    for (const r of removed) changes.push({ record: recordOfRow(r), change: 'removed', fields: [] });

    for (let i = 0; i < upserts.length; i += BATCH) await this.registers.upsertIssuers(upserts.slice(i, i + BATCH), sha256, file.fetchedAt);
    if (removed.length) await this.registers.deleteIssuers(removed.map((r) => r.id));
    await this.registers.restampIssuers(register, sha256, file.fetchedAt);
    for (let i = 0; i < changes.length; i += BATCH) await this.registers.logChanges(register, changes.slice(i, i + BATCH), sha256);
    await this.registers.recordFile(register, sha256, file.fetchedAt, records.length, version);
    const count = (kind: string) => changes.filter((c) => c.change === kind).length;
    return {
      register,
      outcome: 'imported',
      sha256,
      rows: records.length,
      added: count('added'),
      changed: count('changed'),
      removed: count('removed'),
    };
  }
}
