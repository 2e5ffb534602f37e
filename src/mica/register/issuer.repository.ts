import { Injectable } from '@nestjs/common';
import { escapeLike } from '../../common/http/text';
import { firstRow, rows } from '../../database/sql';
import { Transactions } from '../../database/transactions';
import { normaliseCountryCode } from './esma.normalizer';
import { ISSUER_COLUMNS, IssuerRow, STATUS_SQL } from './issuer.row';
import type { ChangesQueryDto, IssuerSortField, ListIssuersQueryDto, SearchQueryDto } from './register.dto';
import type { LicenseType, RegisterName } from './registers';

export interface ChangeRow {
  id: string;
  at: Date;
  change: 'added' | 'changed' | 'removed';
  issuer_id: string;
  entity_name: string;
  license_type: LicenseType;
  country_code: string | null;
  fields: string[];
  source_sha256: string;
}

export interface RegisterFileRow {
  register: RegisterName;
  row_count: number;
  sha256: string;
  fetched_at: Date;
  imported_at: Date;
  checked_at: Date;
}

const SORT_SQL: Record<IssuerSortField, string> = {
  entityName: 'lower(i.entity_name)',
  countryCode: 'i.country_code',
  licenseType: 'i.license_type',
  authorizationDate: 'i.authorization_date',
  status: STATUS_SQL,
};

/** Collects WHERE clauses and their numbered parameters. */
class Where {
  readonly params: unknown[] = [];
  private readonly clauses: string[] = [];

  param(value: unknown): string {
    this.params.push(value);
    return `$${this.params.length}`;
  }

  add(clause: string): void {
    this.clauses.push(clause);
  }

  get sql(): string {
    return this.clauses.length ? `WHERE ${this.clauses.join(' AND ')}` : '';
  }
}

/** Matches a substring (trigram index) or all the words in any order (full-text index). */
function addTextSearch(where: Where, text: string): void {
  const lowered = text.toLowerCase();
  where.add(
    `(i.search_text LIKE ${where.param(`%${escapeLike(lowered)}%`)} OR to_tsvector('simple', i.search_text) @@ plainto_tsquery('simple', ${where.param(lowered)}))`,
  );
}

/** The SQL of reading the imported register: every filter, sort and search runs in PostgreSQL on indexed columns. */
@Injectable()
export class IssuerRepository {
  constructor(private readonly tx: Transactions) {}

  async list(query: ListIssuersQueryDto): Promise<{ rows: IssuerRow[]; total: number }> {
    const where = new Where();
    if (query.licenseType?.length) where.add(`i.license_type = ANY(${where.param(query.licenseType)}::text[])`);
    if (query.country) {
      const alternatives = query.country
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
        .map((term) =>
          /^[A-Za-z]{2}$/.test(term)
            ? `i.country_code = ${where.param(normaliseCountryCode(term))}`
            : `lower(i.country) LIKE ${where.param(`%${escapeLike(term.toLowerCase())}%`)}`,
        );
      if (alternatives.length) where.add(`(${alternatives.join(' OR ')})`);
    }
    if (query.status) where.add(`${STATUS_SQL} = ${where.param(query.status)}`);
    if (query.entityType) where.add(`i.entity_type = ${where.param(query.entityType)}`);
    if (query.search) addTextSearch(where, query.search);

    const direction = (query.sortOrder ?? (query.sortBy ? 'asc' : 'desc')).toUpperCase();
    const sortBy = query.sortBy ?? 'authorizationDate';
    const order = `${SORT_SQL[sortBy]} ${direction} NULLS LAST, lower(i.entity_name) ASC, i.id ASC`;
    const [found, [{ total }]] = await Promise.all([
      rows<IssuerRow>(
        this.tx.manager,
        `SELECT ${ISSUER_COLUMNS} FROM mica_issuers i ${where.sql} ORDER BY ${order} LIMIT ${Number(query.limit)} OFFSET ${Number(query.offset)}`,
        where.params,
      ),
      rows<{ total: number }>(this.tx.manager, `SELECT count(*)::int AS total FROM mica_issuers i ${where.sql}`, where.params),
    ]);
    return { rows: found, total };
  }

  get(id: string): Promise<IssuerRow | undefined> {
    return firstRow<IssuerRow>(this.tx.manager, `SELECT ${ISSUER_COLUMNS} FROM mica_issuers i WHERE i.id = $1`, [id]);
  }

  /** Best matches first: the query's trigram similarity to a word run of the record, then to the whole name (so the shortest matching name leads), then name. */
  async search(query: SearchQueryDto): Promise<{ rows: IssuerRow[]; total: number }> {
    const where = new Where();
    addTextSearch(where, query.q);
    const q = where.param(query.q.toLowerCase());
    const [found, [{ total }]] = await Promise.all([
      rows<IssuerRow>(
        this.tx.manager,
        `SELECT ${ISSUER_COLUMNS} FROM mica_issuers i ${where.sql}
         ORDER BY word_similarity(${q}, i.search_text) DESC, similarity(${q}, lower(i.entity_name)) DESC, lower(i.entity_name) ASC, i.id ASC
         LIMIT ${Number(query.limit)} OFFSET ${Number(query.offset)}`,
        where.params,
      ),
      rows<{ total: number }>(this.tx.manager, `SELECT count(*)::int AS total FROM mica_issuers i ${where.sql}`, where.params.slice(0, -1)),
    ]);
    return { rows: found, total };
  }

  /** Records by license type, entity type and status. */
  groups(): Promise<Array<{ license_type: string; entity_type: string; status: string; n: number }>> {
    return rows(
      this.tx.manager,
      `SELECT i.license_type, i.entity_type, ${STATUS_SQL} AS status, count(*)::int AS n FROM mica_issuers i GROUP BY 1, 2, 3`,
    );
  }

  files(): Promise<RegisterFileRow[]> {
    return rows<RegisterFileRow>(
      this.tx.manager,
      `SELECT register, row_count, sha256, fetched_at, imported_at, checked_at FROM mica_register_files ORDER BY register`,
    );
  }

  serviceCounts(): Promise<Array<{ code: string; n: number }>> {
    return rows(this.tx.manager, `SELECT s AS code, count(*)::int AS n FROM mica_issuers i, unnest(i.services) s GROUP BY s`);
  }

  async countryCount(): Promise<number> {
    const [{ countries }] = await rows<{ countries: number }>(
      this.tx.manager,
      `SELECT count(DISTINCT country_code)::int AS countries FROM mica_issuers`,
    );
    return countries;
  }

  licenseTypeCounts(): Promise<Array<{ license_type: string; n: number }>> {
    return rows(this.tx.manager, `SELECT license_type, count(*)::int AS n FROM mica_issuers GROUP BY 1`);
  }

  /** Home states by number of records, most first. */
  countries(): Promise<Array<{ country_code: string; country: string; n: number }>> {
    return rows(
      this.tx.manager,
      `SELECT country_code, max(country) AS country, count(*)::int AS n FROM mica_issuers WHERE country_code IS NOT NULL GROUP BY 1 ORDER BY 3 DESC, 1 ASC`,
    );
  }

  async changes(query: ChangesQueryDto): Promise<{ rows: ChangeRow[]; total: number }> {
    const where = new Where();
    if (query.since) where.add(`i.at > ${where.param(new Date(query.since))}`);
    const [found, [{ total }]] = await Promise.all([
      rows<ChangeRow>(
        this.tx.manager,
        `SELECT i.id::text AS id, i.at, i.change, i.issuer_id, i.entity_name, i.license_type, i.country_code, i.fields, i.source_sha256
         FROM mica_changes i ${where.sql} ORDER BY i.at DESC, i.id DESC LIMIT ${Number(query.limit)} OFFSET ${Number(query.offset)}`,
        where.params,
      ),
      rows<{ total: number }>(this.tx.manager, `SELECT count(*)::int AS total FROM mica_changes i ${where.sql}`, where.params),
    ]);
    return { rows: found, total };
  }

  async anyIssuer(): Promise<boolean> {
    const [{ any }] = await rows<{ any: boolean }>(this.tx.manager, `SELECT EXISTS (SELECT 1 FROM mica_issuers) AS any`);
    return any;
  }

  /** Records served, and the end of the last sync run in which every register succeeded. */
  async summary(): Promise<{ total: number; last_sync: Date | null }> {
    const row = await firstRow<{ total: number; last_sync: Date | null }>(
      this.tx.manager,
      `SELECT (SELECT count(*)::int FROM mica_issuers) AS total, (SELECT max(finished_at) FROM mica_sync_runs WHERE ok) AS last_sync`,
    );
    return row!;
  }
}
