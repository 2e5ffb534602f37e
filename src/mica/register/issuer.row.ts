import type { MicaRecord } from './esma.normalizer';
import type { IssuerStatus, LicenseType, EntityType, RegisterName } from './registers';

/** Status is derived when read, so an authorisation that ends today is `expired` tomorrow without an import. */
export const STATUS_SQL = `(CASE WHEN i.license_type = 'NON_COMPLIANT' THEN 'non_compliant'
  WHEN i.authorization_end_date IS NOT NULL AND i.authorization_end_date < (now() AT TIME ZONE 'UTC')::date THEN 'expired'
  ELSE 'active' END)`;

/** The columns of an issuer row (alias `i`), dates as text so no time zone can shift them. */
export const ISSUER_COLUMNS = `i.id, i.register, i.license_type, i.entity_type, i.entity_name, i.entity_identifier, i.commercial_name,
  i.country, i.country_code, i.national_authority, i.address, i.websites, i.website_platform,
  to_char(i.authorization_date, 'YYYY-MM-DD') AS authorization_date, to_char(i.authorization_end_date, 'YYYY-MM-DD') AS authorization_end_date,
  i.services, i.passported_countries, i.comments, i.details, i.source_sha256, i.source_fetched_at, i.first_seen_at, i.updated_at,
  ${STATUS_SQL} AS status`;

export interface IssuerRow {
  id: string;
  register: RegisterName;
  license_type: LicenseType;
  entity_type: EntityType;
  entity_name: string;
  entity_identifier: string | null;
  commercial_name: string | null;
  country: string | null;
  country_code: string | null;
  national_authority: string | null;
  address: string | null;
  websites: string[];
  website_platform: string | null;
  authorization_date: string | null;
  authorization_end_date: string | null;
  services: string[];
  passported_countries: string[];
  comments: string | null;
  details: Record<string, string | null>;
  source_sha256: string;
  source_fetched_at: Date;
  first_seen_at: Date;
  updated_at: Date;
  status: IssuerStatus;
}

export function recordOfRow(r: IssuerRow): MicaRecord {
  return {
    id: r.id,
    register: r.register,
    licenseType: r.license_type,
    entityType: r.entity_type,
    entityName: r.entity_name,
    entityIdentifier: r.entity_identifier,
    commercialName: r.commercial_name,
    country: r.country,
    countryCode: r.country_code,
    nationalAuthority: r.national_authority,
    address: r.address,
    websites: r.websites,
    websitePlatform: r.website_platform,
    authorizationDate: r.authorization_date,
    authorizationEndDate: r.authorization_end_date,
    services: r.services,
    passportedCountries: r.passported_countries,
    comments: r.comments,
    details: r.details,
  };
}
