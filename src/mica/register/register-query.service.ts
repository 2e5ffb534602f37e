import { Injectable } from '@nestjs/common';
import { AppException } from '../../common/errors/app.exception';
import { Page } from '../../common/http/page';
import { IssuerRepository } from './issuer.repository';
import { RegisterSummaryService } from './register-summary.service';
import {
  ChangeDto,
  ChangesQueryDto,
  CountryDto,
  IssuerDto,
  LicenseTypeDto,
  ListIssuersQueryDto,
  RegisterFileDto,
  SearchQueryDto,
  StatisticsDto,
} from './register.dto';
import { ENTITY_TYPES, LICENSE_TYPES, REGISTER_BY_LICENSE, REGISTER_DEFINITIONS, SERVICE_LABELS, STATUSES } from './registers';

export type DataSourceLabel = 'database' | 'empty';

/** Reads of the imported register, as the API answers them. */
@Injectable()
export class RegisterQueryService {
  constructor(
    private readonly issuers: IssuerRepository,
    private readonly summary: RegisterSummaryService,
  ) {}

  async list(query: ListIssuersQueryDto): Promise<Page<Partial<IssuerDto>>> {
    const { rows, total } = await this.issuers.list(query);
    const project = (dto: IssuerDto): Partial<IssuerDto> =>
      query.fields ? Object.fromEntries(['id', ...query.fields].map((f) => [f, dto[f as keyof IssuerDto]])) : dto;
    return new Page(
      rows.map((r) => project(IssuerDto.from(r))),
      total,
      query.limit,
      query.offset,
      { source: await this.sourceLabel(total) },
    );
  }

  async get(id: string): Promise<IssuerDto> {
    const row = await this.issuers.get(id);
    if (!row) throw new AppException('NOT_FOUND', 'No register record has this id.');
    return IssuerDto.from(row);
  }

  /** Best matches first (see IssuerRepository.search). */
  async search(query: SearchQueryDto): Promise<Page<IssuerDto>> {
    const { rows, total } = await this.issuers.search(query);
    return new Page(rows.map(IssuerDto.from), total, query.limit, query.offset, { source: await this.sourceLabel(total) });
  }

  async statistics(): Promise<StatisticsDto> {
    const [groups, files, summary, services] = await Promise.all([
      this.issuers.groups(),
      this.issuers.files(),
      this.summary.read(),
      this.issuers.serviceCounts(),
    ]);
    const countries = await this.issuers.countryCount();
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
      registers: files.map((f): RegisterFileDto => ({
        register: f.register,
        licenseType: REGISTER_DEFINITIONS[f.register].licenseType,
        rows: f.row_count,
        sha256: f.sha256,
        fetchedAt: new Date(f.fetched_at).toISOString(),
        importedAt: new Date(f.imported_at).toISOString(),
        checkedAt: new Date(f.checked_at).toISOString(),
      })),
      lastSync: summary.lastSync,
    };
  }

  async licenseTypes(): Promise<Page<LicenseTypeDto>> {
    const counts = await this.issuers.licenseTypeCounts();
    const items = LICENSE_TYPES.map((code): LicenseTypeDto => {
      const def = REGISTER_BY_LICENSE[code];
      return {
        code,
        name: def.title,
        description: def.description,
        entityType: def.entityType,
        register: def.name,
        count: counts.find((c) => c.license_type === code)?.n ?? 0,
      };
    });
    const total = items.reduce((sum, i) => sum + i.count, 0);
    return new Page(items, items.length, items.length, 0, { source: await this.sourceLabel(total) });
  }

  /** Home states by number of records, most first. */
  async countries(): Promise<Page<CountryDto>> {
    const rows = await this.issuers.countries();
    const items = rows.map((r) => ({ countryCode: r.country_code, country: r.country, count: r.n }));
    return new Page(items, items.length, Math.max(items.length, 1), 0, { source: items.length ? 'database' : 'empty' });
  }

  async changes(query: ChangesQueryDto): Promise<Page<ChangeDto>> {
    const { rows, total } = await this.issuers.changes(query);
    const items = rows.map((r): ChangeDto => ({
      id: r.id,
      at: new Date(r.at).toISOString(),
      change: r.change,
      issuerId: r.issuer_id,
      entityName: r.entity_name,
      licenseType: r.license_type,
      countryCode: r.country_code,
      fields: r.fields,
      sourceSha256: r.source_sha256,
    }));
    return new Page(items, total, query.limit, query.offset, { source: 'database' });
  }

  /** `empty` while nothing has ever been imported, so an empty answer is not mistaken for "no match". */
  private async sourceLabel(total: number): Promise<DataSourceLabel> {
    if (total > 0) return 'database';
    return (await this.issuers.anyIssuer()) ? 'database' : 'empty';
  }
}
