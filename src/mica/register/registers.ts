/** The five CSV files of ESMA's interim MiCA register, and what each one lists. */
export const REGISTERS = ['CASPS', 'ARTZZ', 'EMTWP', 'OTHER', 'NCASP'] as const;
export type RegisterName = (typeof REGISTERS)[number];

export const LICENSE_TYPES = ['CASP', 'ART', 'EMT', 'OTHER', 'NON_COMPLIANT'] as const;
export type LicenseType = (typeof LICENSE_TYPES)[number];

export const ENTITY_TYPES = ['provider', 'issuer', 'whitepaper', 'non_compliant'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export const STATUSES = ['active', 'expired', 'non_compliant'] as const;
export type IssuerStatus = (typeof STATUSES)[number];

export interface RegisterDefinition {
  name: RegisterName;
  licenseType: LicenseType;
  entityType: EntityType;
  /** Short prefix of the stable record ids of this register. */
  idPrefix: string;
  title: string;
  description: string;
  /** Columns without which a file of this register is refused as malformed. */
  requiredColumns: string[];
}

const COMMON = ['ae_competentAuthority', 'ae_homeMemberState', 'ae_lei_name', 'ae_lei'];

export const REGISTER_DEFINITIONS: Record<RegisterName, RegisterDefinition> = {
  CASPS: {
    name: 'CASPS',
    licenseType: 'CASP',
    entityType: 'provider',
    idPrefix: 'casp',
    title: 'Crypto-asset service providers',
    description: 'Crypto-asset service providers authorised under MiCA (Title V).',
    requiredColumns: [...COMMON, 'ac_authorisationNotificationDate', 'ac_serviceCode', 'ac_serviceCode_cou'],
  },
  ARTZZ: {
    name: 'ARTZZ',
    licenseType: 'ART',
    entityType: 'issuer',
    idPrefix: 'art',
    title: 'Asset-referenced token issuers',
    description: 'Issuers of asset-referenced tokens authorised under MiCA (Title III).',
    requiredColumns: [...COMMON, 'ac_authorisationNotificationDate', 'wp_url'],
  },
  EMTWP: {
    name: 'EMTWP',
    licenseType: 'EMT',
    entityType: 'issuer',
    idPrefix: 'emt',
    title: 'E-money token issuers and white papers',
    description: 'Issuers of e-money tokens and their white papers (MiCA Title IV).',
    requiredColumns: [...COMMON, 'ac_authorisationNotificationDate', 'wp_url'],
  },
  OTHER: {
    name: 'OTHER',
    licenseType: 'OTHER',
    entityType: 'whitepaper',
    idPrefix: 'oth',
    title: 'White papers of other crypto-assets',
    description: 'White papers of crypto-assets other than ARTs and EMTs (MiCA Title II).',
    requiredColumns: [...COMMON, 'wp_url'],
  },
  NCASP: {
    name: 'NCASP',
    licenseType: 'NON_COMPLIANT',
    entityType: 'non_compliant',
    idPrefix: 'ncasp',
    title: 'Non-compliant entities',
    description: 'Entities providing crypto-asset services without MiCA authorisation, as notified by national authorities.',
    requiredColumns: [...COMMON, 'ae_website', 'ae_decision_date'],
  },
};

export const REGISTER_BY_LICENSE: Record<LicenseType, RegisterDefinition> = Object.fromEntries(
  Object.values(REGISTER_DEFINITIONS).map((d) => [d.licenseType, d]),
) as Record<LicenseType, RegisterDefinition>;

/** MiCA Article 3(1)(16) services, by the letter ESMA's files use. */
export const SERVICE_LABELS: Record<string, string> = {
  a: 'providing custody and administration of crypto-assets on behalf of clients',
  b: 'operation of a trading platform for crypto-assets',
  c: 'exchange of crypto-assets for funds',
  d: 'exchange of crypto-assets for other crypto-assets',
  e: 'execution of orders for crypto-assets on behalf of clients',
  f: 'placing of crypto-assets',
  g: 'reception and transmission of orders for crypto-assets on behalf of clients',
  h: 'providing advice on crypto-assets',
  i: 'providing portfolio management on crypto-assets',
  j: 'providing transfer services for crypto-assets on behalf of clients',
};

/** EU/EEA states (and a few neighbours LEIs point to) by ISO 3166 code; Greece is GR, never EL. */
export const COUNTRY_NAMES: Record<string, string> = {
  AT: 'Austria',
  BE: 'Belgium',
  BG: 'Bulgaria',
  HR: 'Croatia',
  CY: 'Cyprus',
  CZ: 'Czechia',
  DK: 'Denmark',
  EE: 'Estonia',
  FI: 'Finland',
  FR: 'France',
  DE: 'Germany',
  GR: 'Greece',
  HU: 'Hungary',
  IE: 'Ireland',
  IT: 'Italy',
  LV: 'Latvia',
  LT: 'Lithuania',
  LU: 'Luxembourg',
  MT: 'Malta',
  NL: 'Netherlands',
  PL: 'Poland',
  PT: 'Portugal',
  RO: 'Romania',
  SK: 'Slovakia',
  SI: 'Slovenia',
  ES: 'Spain',
  SE: 'Sweden',
  IS: 'Iceland',
  LI: 'Liechtenstein',
  NO: 'Norway',
  CH: 'Switzerland',
  GB: 'United Kingdom',
  US: 'United States',
};
