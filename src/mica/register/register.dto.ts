import { ApiProperty, ApiPropertyOptional, PartialType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsISO8601, IsInt, IsOptional, IsString, Length, Max, MaxLength, Min } from 'class-validator';
import { OffsetQueryDto, PaginationQueryDto, ToInt } from '../../common/http/pagination.dto';
import { NoControlChars, Trim } from '../../common/http/text';
import { serviceLabel } from './esma.normalizer';
import type { IssuerRow } from './issuer.row';
import { ENTITY_TYPES, EntityType, IssuerStatus, LICENSE_TYPES, LicenseType, REGISTERS, RegisterName, STATUSES } from './registers';

/** `a,b , c` → ['a','b','c'] (optionally upper-cased); anything but a string is left for validation to refuse. */
const CommaList = (upper = false) =>
  Transform(
    ({ value }: { value: unknown }) =>
      typeof value === 'string'
        ? value
            .split(',')
            .map((v) => (upper ? v.trim().toUpperCase() : v.trim()))
            .filter(Boolean)
        : value,
    { toClassOnly: true },
  );

export const ISSUER_SORT_FIELDS = ['entityName', 'countryCode', 'licenseType', 'authorizationDate', 'status'] as const;
export type IssuerSortField = (typeof ISSUER_SORT_FIELDS)[number];

export class ServiceDto {
  @ApiProperty({ example: 'a', description: 'MiCA Article 3(1)(16) letter, a–j.' })
  code: string;

  @ApiProperty({ example: 'providing custody and administration of crypto-assets on behalf of clients' })
  label: string;
}

export class SourceFileDto {
  @ApiProperty({ enum: REGISTERS, description: 'The ESMA file the record was read from.' })
  register: RegisterName;

  @ApiProperty({ description: 'SHA-256 of that file version.' })
  sha256: string;

  @ApiProperty({ format: 'date-time', description: 'When that file version was fetched or read.' })
  fetchedAt: string;
}

export class IssuerDto {
  @ApiProperty({
    example: 'casp_3b6081eefa96ea3879d82990',
    description: "Stable across imports: derived from the record's identity, not its row.",
  })
  id: string;

  @ApiProperty({ example: 'Bitpanda GmbH' })
  entityName: string;

  @ApiProperty({
    type: String,
    nullable: true,
    example: '5493007WZ7IFULIL8G21',
    description: 'LEI; null when ESMA lists none or free text (see details.leiText).',
  })
  entityIdentifier: string | null;

  @ApiProperty({ enum: LICENSE_TYPES })
  licenseType: LicenseType;

  @ApiProperty({ enum: ENTITY_TYPES })
  entityType: EntityType;

  @ApiProperty({ type: String, nullable: true, example: 'Austria' })
  country: string | null;

  @ApiProperty({
    type: String,
    nullable: true,
    example: 'AT',
    description: 'ISO 3166 code of the home member state; Greece is GR (ESMA also writes EL).',
  })
  countryCode: string | null;

  @ApiProperty({ type: String, nullable: true })
  nationalAuthority: string | null;

  @ApiProperty({ type: String, nullable: true })
  commercialName: string | null;

  @ApiProperty({ type: String, nullable: true })
  address: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'The first website listed.' })
  website: string | null;

  @ApiProperty({ type: [String], description: 'Every website listed (non-compliant entities often have several).' })
  websites: string[];

  @ApiProperty({ type: String, nullable: true })
  websitePlatform: string | null;

  @ApiProperty({ type: String, format: 'date', nullable: true, example: '2025-04-09', description: 'yyyy-mm-dd' })
  authorizationDate: string | null;

  @ApiProperty({ type: String, format: 'date', nullable: true, example: null, description: 'yyyy-mm-dd' })
  authorizationEndDate: string | null;

  @ApiProperty({ type: [ServiceDto], description: "CASP services, normalised from ESMA's hand-typed codes." })
  services: ServiceDto[];

  @ApiProperty({ type: [String], example: ['DE', 'GR'], description: 'CASPs: states passported to; white papers: states offered in.' })
  passportedCountries: string[];

  @ApiProperty({ enum: STATUSES })
  status: IssuerStatus;

  @ApiProperty({ type: String, nullable: true })
  comments: string | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string', nullable: true },
    description: 'Register-specific columns: whitepaperUrl, dti, infringement, reason, decisionDate, lastUpdate, leiText…',
  })
  details: Record<string, string | null>;

  @ApiProperty({ type: SourceFileDto })
  source: SourceFileDto;

  static from(r: IssuerRow): IssuerDto {
    return {
      id: r.id,
      entityName: r.entity_name,
      entityIdentifier: r.entity_identifier,
      licenseType: r.license_type,
      entityType: r.entity_type,
      country: r.country,
      countryCode: r.country_code,
      nationalAuthority: r.national_authority,
      commercialName: r.commercial_name,
      address: r.address,
      website: r.websites[0] ?? null,
      websites: r.websites,
      websitePlatform: r.website_platform,
      authorizationDate: r.authorization_date,
      authorizationEndDate: r.authorization_end_date,
      services: r.services.map((code) => ({ code, label: serviceLabel(code) })),
      passportedCountries: r.passported_countries,
      status: r.status,
      comments: r.comments,
      details: r.details,
      source: { register: r.register, sha256: r.source_sha256, fetchedAt: new Date(r.source_fetched_at).toISOString() },
    };
  }
}

export const ISSUER_FIELDS = [
  'id',
  'entityName',
  'entityIdentifier',
  'licenseType',
  'entityType',
  'country',
  'countryCode',
  'nationalAuthority',
  'commercialName',
  'address',
  'website',
  'websites',
  'websitePlatform',
  'authorizationDate',
  'authorizationEndDate',
  'services',
  'passportedCountries',
  'status',
  'comments',
  'details',
  'source',
] as const satisfies ReadonlyArray<keyof IssuerDto>;

export class ListIssuersQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({ description: `Comma list of ${LICENSE_TYPES.join(', ')} (case-insensitive).`, example: 'CASP,EMT' })
  @IsOptional()
  @CommaList(true)
  @IsArray()
  @ArrayMaxSize(LICENSE_TYPES.length)
  @IsIn(LICENSE_TYPES, { each: true, message: `each value in licenseType must be one of: ${LICENSE_TYPES.join(', ')}` })
  licenseType?: LicenseType[];

  @ApiPropertyOptional({
    maxLength: 100,
    description: 'Comma list of ISO codes of the home state (EL and GR both mean Greece) or parts of a country name.',
    example: 'DE,austria',
  })
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @NoControlChars()
  country?: string;

  @ApiPropertyOptional({ enum: STATUSES })
  @IsOptional()
  @IsIn(STATUSES)
  status?: IssuerStatus;

  @ApiPropertyOptional({ enum: ENTITY_TYPES })
  @IsOptional()
  @IsIn(ENTITY_TYPES)
  entityType?: EntityType;

  @ApiPropertyOptional({ maxLength: 200, description: 'Case-insensitive, over name, LEI, commercial name and authority.' })
  @IsOptional()
  @Trim()
  @IsString()
  @Length(1, 200)
  @NoControlChars()
  search?: string;

  @ApiPropertyOptional({ enum: ISSUER_SORT_FIELDS, description: 'Default: authorizationDate, newest first.' })
  @IsOptional()
  @IsIn(ISSUER_SORT_FIELDS)
  sortBy?: IssuerSortField;

  @ApiPropertyOptional({ enum: ['asc', 'desc'], description: 'Default: asc with sortBy, desc without.' })
  @IsOptional()
  @IsIn(['asc', 'desc'])
  sortOrder?: 'asc' | 'desc';

  @ApiPropertyOptional({
    description: `Comma list of issuer fields to return (id is always returned): ${ISSUER_FIELDS.join(', ')}.`,
    example: 'entityName,countryCode',
  })
  @IsOptional()
  @CommaList()
  @IsArray()
  @ArrayMaxSize(ISSUER_FIELDS.length)
  @IsIn(ISSUER_FIELDS, { each: true, message: `each value in fields must be one of: ${ISSUER_FIELDS.join(', ')}` })
  fields?: Array<(typeof ISSUER_FIELDS)[number]>;
}

export class IssuerParamsDto {
  @ApiProperty({ maxLength: 100 })
  @IsString()
  @Length(1, 100)
  // PostgreSQL refuses NUL in text: without this a NUL in the id was a 500.
  @NoControlChars()
  id: string;
}

export class SearchQueryDto extends OffsetQueryDto {
  @ApiProperty({ minLength: 2, maxLength: 200, description: 'Words or part of a name, LEI, commercial name or authority.' })
  @Trim()
  @IsString()
  @Length(2, 200)
  @NoControlChars()
  q: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @ToInt()
  @IsInt()
  @Min(1)
  @Max(100)
  limit: number = 20;
}

export class ChangesQueryDto extends PaginationQueryDto {
  @ApiPropertyOptional({
    example: '2026-11-20T00:00:00Z',
    description: 'ISO-8601 time; only changes made by imports after it. Default: all.',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  since?: string;
}

export class ChangeDto {
  @ApiProperty({ example: '42' })
  id: string;

  @ApiProperty({ format: 'date-time' })
  at: string;

  @ApiProperty({ enum: ['added', 'changed', 'removed'] })
  change: 'added' | 'changed' | 'removed';

  @ApiProperty()
  issuerId: string;

  @ApiProperty()
  entityName: string;

  @ApiProperty({ enum: LICENSE_TYPES })
  licenseType: LicenseType;

  @ApiProperty({ type: String, nullable: true })
  countryCode: string | null;

  @ApiProperty({ type: [String], description: 'For `changed`: the issuer fields that differ.' })
  fields: string[];

  @ApiProperty({ description: 'SHA-256 of the file version that made the change.' })
  sourceSha256: string;
}

export class CountryDto {
  @ApiProperty({ example: 'DE' }) countryCode: string;
  @ApiProperty({ example: 'Germany' }) country: string;
  @ApiProperty({ type: 'integer', example: 73 }) count: number;
}

export class LicenseTypeDto {
  @ApiProperty({ enum: LICENSE_TYPES }) code: LicenseType;
  @ApiProperty({ example: 'Crypto-asset service providers' }) name: string;
  @ApiProperty() description: string;
  @ApiProperty({ enum: ENTITY_TYPES }) entityType: EntityType;
  @ApiProperty({ enum: REGISTERS }) register: RegisterName;
  @ApiProperty({ type: 'integer', example: 329 }) count: number;
}

export class RegisterFileDto {
  @ApiProperty({ enum: REGISTERS }) register: RegisterName;
  @ApiProperty({ enum: LICENSE_TYPES }) licenseType: LicenseType;
  @ApiProperty({ type: 'integer' }) rows: number;
  @ApiProperty() sha256: string;
  @ApiProperty({ format: 'date-time' }) fetchedAt: string;
  @ApiProperty({ format: 'date-time' }) importedAt: string;
  @ApiProperty({ format: 'date-time', description: 'Last time the source was checked (a 304 or the same file moves it).' })
  checkedAt: string;
}

export class StatisticsDto {
  @ApiProperty({ type: 'integer', example: 1270 }) totalIssuers: number;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    example: { CASP: 329, ART: 0, EMT: 42, OTHER: 732, NON_COMPLIANT: 167 },
  })
  byLicenseType: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } }) byStatus: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } }) byEntityType: Record<string, number>;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, description: 'CASPs per service letter.' }) byService: Record<
    string,
    number
  >;
  @ApiProperty({ type: 'integer' }) countries: number;
  @ApiProperty({ type: [RegisterFileDto] }) registers: RegisterFileDto[];
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'End of the last sync run in which every register succeeded.',
  })
  lastSync: string | null;
}

export class SyncRequestDto {
  @ApiPropertyOptional({
    maxLength: 1000,
    description: 'A folder on the server holding the five CSV files; default: the configured MICA_SYNC_URL.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  @NoControlChars()
  folder?: string;
}

export class RegisterOutcomeDto {
  @ApiProperty({ enum: REGISTERS }) register: RegisterName;
  @ApiProperty({ enum: ['imported', 'unchanged', 'not_modified', 'rejected', 'failed'] }) outcome: string;
  @ApiPropertyOptional() sha256?: string;
  @ApiPropertyOptional({ type: 'integer' }) rows?: number;
  @ApiPropertyOptional({ type: 'integer' }) added?: number;
  @ApiPropertyOptional({ type: 'integer' }) changed?: number;
  @ApiPropertyOptional({ type: 'integer' }) removed?: number;
  @ApiPropertyOptional() message?: string;
}

export class SyncReportDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ enum: ['cli', 'admin', 'schedule'] }) trigger: string;
  @ApiProperty() source: string;
  @ApiProperty({ format: 'date-time' }) startedAt: string;
  @ApiProperty({ format: 'date-time' }) finishedAt: string;
  @ApiProperty({ description: "True when every register holds its source's latest version." }) ok: boolean;
  @ApiProperty({ type: [RegisterOutcomeDto] }) registers: RegisterOutcomeDto[];
}

/** A record of the issuers list: every field of IssuerDto, or only those `fields` asked for. */
export class IssuerFieldsDto extends PartialType(IssuerDto) {}
