import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppException } from '../../common/errors/app.exception';
import { Page } from '../../common/http/page';
import { escapeLike } from '../../common/http/text';
import { normaliseCountryCode } from './esma.normalizer';
import { ISSUER_COLUMNS, IssuerRow, STATUS_SQL } from './issuer.row';
import { RegisterSummaryService } from './register-summary.service';
import {
  ChangeDto,
  ChangesQueryDto,
  CountryDto,
  IssuerDto,
  IssuerSortField,
  LicenseTypeDto,
  ListIssuersQueryDto,
  RegisterFileDto,
  SearchQueryDto,
  StatisticsDto,
} from './register.dto';
import { ENTITY_TYPES, LICENSE_TYPES, REGISTER_BY_LICENSE, REGISTER_DEFINITIONS, RegisterName, SERVICE_LABELS, STATUSES } from './registers';

export type DataSourceLabel = 'database' | 'empty';

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

/** Reads of the imported register: every filter, sort and search runs in PostgreSQL on indexed columns. */
@Injectable()
export class RegisterQueryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly summary: RegisterSummaryService,
  ) {}

  async list(query: ListIssuersQueryDto): Promise<Page<Partial<IssuerDto>>> {
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
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT ${ISSUER_COLUMNS} FROM mica_issuers i ${where.sql} ORDER BY ${order} LIMIT ${Number(query.limit)} OFFSET ${Number(query.offset)}`,
        where.params,
      ) as Promise<IssuerRow[]>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM mica_issuers i ${where.sql}`, where.params) as Promise<Array<{ total: number }>>,
    ]);
    const project = (dto: IssuerDto): Partial<IssuerDto> =>
      query.fields ? Object.fromEntries(['id', ...query.fields].map((f) => [f, dto[f as keyof IssuerDto]])) : dto;
    return new Page(rows.map((r) => project(IssuerDto.from(r))), total, query.limit, query.offset, { source: await this.sourceLabel(total) });
  }

  async get(id: string): Promise<IssuerDto> {
    const [row] = (await this.dataSource.query(`SELECT ${ISSUER_COLUMNS} FROM mica_issuers i WHERE i.id = $1`, [id])) as IssuerRow[];
    if (!row) throw new AppException('NOT_FOUND', 'No register record has this id.');
    return IssuerDto.from(row);
  }

  /** Best matches first: the query's trigram similarity to a word run of the record, then to the whole name (so the shortest matching name leads), then name. */
  async search(query: SearchQueryDto): Promise<Page<IssuerDto>> {
    const where = new Where();
    addTextSearch(where, query.q);
    const q = where.param(query.q.toLowerCase());
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT ${ISSUER_COLUMNS} FROM mica_issuers i ${where.sql}
         ORDER BY word_similarity(${q}, i.search_text) DESC, similarity(${q}, lower(i.entity_name)) DESC, lower(i.entity_name) ASC, i.id ASC
         LIMIT ${Number(query.limit)} OFFSET ${Number(query.offset)}`,
        where.params,
      ) as Promise<IssuerRow[]>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM mica_issuers i ${where.sql}`, where.params.slice(0, -1)) as Promise<Array<{ total: number }>>,
    ]);
    return new Page(rows.map(IssuerDto.from), total, query.limit, query.offset, { source: await this.sourceLabel(total) });
  }

  async statistics(): Promise<StatisticsDto> {
    const [groups, files, summary, services] = await Promise.all([
      this.dataSource.query(
        `SELECT i.license_type, i.entity_type, ${STATUS_SQL} AS status, count(*)::int AS n FROM mica_issuers i GROUP BY 1, 2, 3`,
      ) as Promise<Array<{ license_type: string; entity_type: string; status: string; n: number }>>,
      this.dataSource.query(
        `SELECT register, row_count, sha256, fetched_at, imported_at, checked_at FROM mica_register_files ORDER BY register`,
      ) as Promise<Array<{ register: RegisterName; row_count: number; sha256: string; fetched_at: Date; imported_at: Date; checked_at: Date }>>,
      this.summary.read(),
      this.dataSource.query(`SELECT s AS code, count(*)::int AS n FROM mica_issuers i, unnest(i.services) s GROUP BY s`) as Promise<Array<{ code: string; n: number }>>,
    ]);
    const [{ countries }] = (await this.dataSource.query(`SELECT count(DISTINCT country_code)::int AS countries FROM mica_issuers`)) as Array<{ countries: number }>;
    const tally = (keys: readonly string[], pick: (g: (typeof groups)[number]) => string) => {
      const out = Object.fromEntries(keys.map((k) => [k, 0]));
      for (const g of groups) out[pick(g)] = (out[pick(g)] ?? 0) + g.n;
      return out;
    };
    return {
      totalIssuers: summary.totalIssuers,
      byLicenseType: tally(LICENSE_TYPES, (g) => g.license_type),
      byStatus: tally(STATUSES, (g) => g.status),
      byEntityType: tally(ENTITY_TYPES, (g) => g.entity_type),
      byService: Object.fromEntries(Object.keys(SERVICE_LABELS).map((code) => [code, services.find((s) => s.code === code)?.n ?? 0])),
      countries,
      registers: files.map(
        (f): RegisterFileDto => ({
          register: f.register,
          licenseType: REGISTER_DEFINITIONS[f.register].licenseType,
          rows: f.row_count,
          sha256: f.sha256,
          fetchedAt: new Date(f.fetched_at).toISOString(),
          importedAt: new Date(f.imported_at).toISOString(),
          checkedAt: new Date(f.checked_at).toISOString(),
        }),
      ),
      lastSync: summary.lastSync,
    };
  }

  async licenseTypes(): Promise<Page<LicenseTypeDto>> {
    const counts = (await this.dataSource.query(`SELECT license_type, count(*)::int AS n FROM mica_issuers GROUP BY 1`)) as Array<{ license_type: string; n: number }>;
    const items = LICENSE_TYPES.map((code): LicenseTypeDto => {
      const def = REGISTER_BY_LICENSE[code];
      return { code, name: def.title, description: def.description, entityType: def.entityType, register: def.name, count: counts.find((c) => c.license_type === code)?.n ?? 0 };
    });
    const total = items.reduce((sum, i) => sum + i.count, 0);
    return new Page(items, items.length, items.length, 0, { source: await this.sourceLabel(total) });
  }

  /** Home states by number of records, most first. */
  async countries(): Promise<Page<CountryDto>> {
    const rows = (await this.dataSource.query(
      `SELECT country_code, max(country) AS country, count(*)::int AS n FROM mica_issuers WHERE country_code IS NOT NULL GROUP BY 1 ORDER BY 3 DESC, 1 ASC`,
    )) as Array<{ country_code: string; country: string; n: number }>;
    const items = rows.map((r) => ({ countryCode: r.country_code, country: r.country, count: r.n }));
    return new Page(items, items.length, Math.max(items.length, 1), 0, { source: items.length ? 'database' : 'empty' });
  }

  async changes(query: ChangesQueryDto): Promise<Page<ChangeDto>> {
    const where = new Where();
    if (query.since) where.add(`i.at > ${where.param(new Date(query.since))}`);
    const [rows, [{ total }]] = await Promise.all([
      this.dataSource.query(
        `SELECT i.id::text AS id, i.at, i.change, i.issuer_id, i.entity_name, i.license_type, i.country_code, i.fields, i.source_sha256
         FROM mica_changes i ${where.sql} ORDER BY i.at DESC, i.id DESC LIMIT ${Number(query.limit)} OFFSET ${Number(query.offset)}`,
        where.params,
      ) as Promise<Array<Record<string, any>>>,
      this.dataSource.query(`SELECT count(*)::int AS total FROM mica_changes i ${where.sql}`, where.params) as Promise<Array<{ total: number }>>,
    ]);
    const items = rows.map(
      (r): ChangeDto => ({
        id: r.id,
        at: new Date(r.at).toISOString(),
        change: r.change,
        issuerId: r.issuer_id,
        entityName: r.entity_name,
        licenseType: r.license_type,
        countryCode: r.country_code,
        fields: r.fields,
        sourceSha256: r.source_sha256,
      }),
    );
    return new Page(items, total, query.limit, query.offset, { source: 'database' });
  }

  /** `empty` while nothing has ever been imported, so an empty answer is not mistaken for "no match". */
  private async sourceLabel(total: number): Promise<DataSourceLabel> {
    if (total > 0) return 'database';
    const [{ any }] = (await this.dataSource.query(`SELECT EXISTS (SELECT 1 FROM mica_issuers) AS any`)) as Array<{ any: boolean }>;
    return any ? 'database' : 'empty';
  }
}
