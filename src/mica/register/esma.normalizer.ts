import { createHash } from 'node:crypto';
import type { EsmaRow } from './esma.parser';
import { COUNTRY_NAMES, EntityType, LicenseType, REGISTER_DEFINITIONS, RegisterName, SERVICE_LABELS } from './registers';

/** One register row, cleaned: what the database stores and the API serves. */
export interface MicaRecord {
  id: string;
  register: RegisterName;
  licenseType: LicenseType;
  entityType: EntityType;
  entityName: string;
  entityIdentifier: string | null;
  commercialName: string | null;
  country: string | null;
  countryCode: string | null;
  nationalAuthority: string | null;
  address: string | null;
  websites: string[];
  websitePlatform: string | null;
  authorizationDate: string | null;
  authorizationEndDate: string | null;
  services: string[];
  passportedCountries: string[];
  comments: string | null;
  /** Register-specific columns (white paper URL, DTI, infringement, last update…), cleaned. */
  details: Record<string, string | null>;
}

const LEI = /^[A-Z0-9]{18}[0-9]{2}$/;
const NO_VALUE = /^(n\/?a|none|-+|\/)$/i;

/** Collapses runs of white space (ESMA cells carry stray spaces and line breaks); empty → null. */
export function cleanText(value: string | undefined): string | null {
  const text = (value ?? '').replace(/\s+/g, ' ').trim();
  return text ? text : null;
}

/** Like cleanText, but keeps line breaks of free-text comments. */
function cleanMultiline(value: string | undefined): string | null {
  const text = (value ?? '')
    .split(/\r?\n/)
    .map((l) => l.replace(/[ \t]+/g, ' ').trim())
    .join('\n')
    .trim();
  return text ? text : null;
}

/** dd/mm/yyyy (ESMA's format, also d/m/yyyy) or yyyy-mm-dd → yyyy-mm-dd; anything else → null. */
export function parseEsmaDate(value: string | undefined): string | null {
  const text = (value ?? '').trim();
  let y: number, m: number, d: number;
  const dmy = /^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$/.exec(text);
  const iso = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (dmy) [d, m, y] = [Number(dmy[1]), Number(dmy[2]), Number(dmy[3])];
  else if (iso) [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
  else return null;
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return null;
  return date.toISOString().slice(0, 10);
}

/** A two-letter member-state code, with Greece's EU code EL mapped to its ISO code GR. */
export function normaliseCountryCode(value: string | undefined): string | null {
  const code = (value ?? '').trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) return null;
  return code === 'EL' ? 'GR' : code;
}

export function countryName(code: string | null): string | null {
  return code ? (COUNTRY_NAMES[code] ?? code) : null;
}

/** A cell listing countries (`AT|BE|EL`, sometimes with spaces or commas) → sorted unique ISO codes. */
export function parseCountryList(value: string | undefined): string[] {
  const codes = (value ?? '')
    .split(/[|,;/\s]+/)
    .map(normaliseCountryCode)
    .filter((c): c is string => !!c);
  return [...new Set(codes)].sort();
}

/** A website cell, possibly several URLs separated by `|` or spaces. */
export function parseWebsites(value: string | undefined): string[] {
  return [
    ...new Set(
      (value ?? '')
        .split(/[|\s]+/)
        .map((u) => u.trim())
        .filter((u) => u && !NO_VALUE.test(u)),
    ),
  ];
}

/** A valid LEI, or null when the cell is empty or holds free text (kept apart as `leiText`). */
export function parseLei(value: string | undefined): { lei: string | null; text: string | null } {
  const text = cleanText(value);
  if (!text) return { lei: null, text: null };
  const candidate = text.toUpperCase();
  if (LEI.test(candidate)) return { lei: candidate, text: null };
  return { lei: null, text: NO_VALUE.test(text) ? null : text };
}

const SERVICE_PATTERNS: Array<[string, RegExp]> = [
  ['a', /custody/],
  ['b', /trading platform/],
  ['e', /execution/],
  ['f', /placing/],
  ['g', /reception|transmission of (client )?orders/],
  ['h', /advice/],
  ['i', /portfolio/],
  ['j', /transfer/],
];

/**
 * The services of a CASP, as letters a–j. ESMA's cells are typed by hand: letters with labels,
 * labels alone, wrong letters before a right label, separated by `|`, ` I `, `/`, `,`, `;` or line
 * breaks. The label decides when there is one (letters are the part most often mistyped); a lone
 * letter counts when there is not.
 */
export function parseServiceCodes(value: string | undefined): { codes: string[]; unrecognised: string[] } {
  const codes = new Set<string>();
  const unrecognised: string[] = [];
  for (const raw of (value ?? '').split(/\||\s+I\s+|\/|,|;|\r?\n/)) {
    const segment = raw.trim();
    if (!segment) continue;
    const words = segment
      .toLowerCase()
      .replace(/[^a-z]+/g, ' ')
      .trim();
    const found = new Set<string>();
    for (const [code, pattern] of SERVICE_PATTERNS) if (pattern.test(words)) found.add(code);
    if (/exchange/.test(words)) found.add(/funds|fiat/.test(words) ? 'c' : 'd');
    if (!found.size) {
      const letter = /^([a-j])\s*[.)]?(\s|$)/i.exec(segment.replace(/\t/g, ' '));
      if (letter) found.add(letter[1].toLowerCase());
    }
    if (found.size) found.forEach((c) => codes.add(c));
    else if (/[a-z]{3}/i.test(segment)) unrecognised.push(segment);
  }
  return { codes: [...codes].sort(), unrecognised };
}

/** Names compared for identity: accents, case, punctuation, U+FFFD and spacing do not count. */
export function identityName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

function identityUrl(url: string | null | undefined): string {
  return (url ?? '')
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/^www\./, '')
    .replace(/\/+$/, '');
}

type Draft = Omit<MicaRecord, 'id'>;

/** Turns one parsed row into a record (without its id: see assignIds). */
export function normaliseRow(register: RegisterName, row: EsmaRow): Draft {
  const def = REGISTER_DEFINITIONS[register];
  const { lei, text: leiText } = parseLei(row.ae_lei);
  const countryCode = normaliseCountryCode(row.ae_homeMemberState);
  const services = register === 'CASPS' ? parseServiceCodes(row.ac_serviceCode) : { codes: [], unrecognised: [] };
  const details: Record<string, string | null> = { leiCountryCode: normaliseCountryCode(row.ae_lei_cou_code) };
  if (leiText) details.leiText = leiText;
  if (services.unrecognised.length) details.servicesText = cleanText(row.ac_serviceCode);
  let comments: string | null;
  let passported: string[] = [];
  let authorizationDate: string | null = null;
  let authorizationEndDate: string | null = null;
  switch (register) {
    case 'CASPS':
      passported = parseCountryList(row.ac_serviceCode_cou);
      comments = cleanMultiline(row.ac_comments);
      details.lastUpdate = parseEsmaDate(row.ac_lastupdate);
      break;
    case 'ARTZZ':
    case 'EMTWP':
      comments = cleanMultiline(row.wp_comments);
      details.whitepaperUrl = cleanText(row.wp_url);
      details.whitepaperDate = parseEsmaDate(row.wp_authorisationNotificationDate);
      details.lastUpdate = parseEsmaDate(row.wp_lastupdate);
      if (register === 'ARTZZ') {
        details.creditInstitution = cleanText(row.ae_credit_institution);
        passported = parseCountryList(row.wp_url_cou);
      } else {
        details.exemption48_4 = cleanText(row.ae_exemption48_4);
        details.exemption48_5 = cleanText(row.ae_exemption48_5);
        details.otherAuthorisation = cleanText(row.ae_authorisation_other_emt);
        details.dtiFfg = cleanText(row.ae_DTI_FFG);
        details.dti = cleanText(row.ae_DTI);
      }
      break;
    case 'OTHER':
      passported = parseCountryList(row.ae_offerCode_cou);
      comments = cleanMultiline(row.wp_comments);
      details.whitepaperUrl = cleanText(row.wp_url);
      details.offeredViaCasp = cleanText(row.ae_lei_name_casp);
      details.offeredViaCaspLei = parseLei(row.ae_lei_casp).lei;
      details.dtiFfg = cleanText(row.ae_DTI_FFG);
      details.dti = cleanText(row.ae_DTI);
      details.lastUpdate = parseEsmaDate(row.wp_lastupdate);
      break;
    case 'NCASP':
      comments = cleanMultiline(row.ae_comments);
      details.infringement = cleanText(row.ae_infrigment);
      details.reason = cleanText(row.ae_reason);
      details.decisionDate = parseEsmaDate(row.ae_decision_date);
      details.lastUpdate = parseEsmaDate(row.ae_lastupdate);
      break;
  }
  if (register !== 'OTHER' && register !== 'NCASP') {
    authorizationDate = parseEsmaDate(row.ac_authorisationNotificationDate);
    authorizationEndDate = parseEsmaDate(row.ac_authorisationEndDate);
  }
  return {
    register,
    licenseType: def.licenseType,
    entityType: def.entityType,
    entityName: cleanText(row.ae_lei_name) ?? cleanText(row.ae_commercial_name) ?? '(unnamed)',
    entityIdentifier: lei,
    commercialName: cleanText(row.ae_commercial_name),
    country: countryName(countryCode),
    countryCode,
    nationalAuthority: cleanText(row.ae_competentAuthority),
    address: cleanText(row.ae_address),
    websites: parseWebsites(row.ae_website),
    websitePlatform: cleanText(row.ae_website_platform),
    authorizationDate,
    authorizationEndDate,
    services: services.codes,
    passportedCountries: passported,
    comments: comments!,
    details,
  };
}

/**
 * Gives each record its stable id: a digest of the register, the entity (LEI, else its name), the
 * home state and, for white papers, the white paper's URL — what identifies the real-world record,
 * whatever its row number. Rows that share that identity (one firm authorised twice, two firms
 * sharing a mistyped LEI) are told apart by name, authorisation date and website, and rows identical
 * even then by their order among themselves.
 */
export function assignIds(drafts: Draft[]): MicaRecord[] {
  const primary = (d: Draft) =>
    [
      d.register,
      d.entityIdentifier ?? `name:${identityName(d.entityName)}`,
      d.countryCode ?? '',
      identityUrl(d.details.whitepaperUrl),
    ].join('\u0001');
  const secondary = (d: Draft) =>
    [identityName(d.entityName), d.authorizationDate ?? d.details.decisionDate ?? '', d.websites.map(identityUrl).join(' ')].join('\u0001');
  const primaryCount = new Map<string, number>();
  for (const d of drafts) primaryCount.set(primary(d), (primaryCount.get(primary(d)) ?? 0) + 1);
  const seen = new Map<string, number>();
  return drafts.map((d) => {
    let identity = primary(d);
    if (primaryCount.get(identity)! > 1) identity += `\u0002${secondary(d)}`;
    const n = (seen.get(identity) ?? 0) + 1;
    seen.set(identity, n);
    if (n > 1) identity += `\u0003${n}`;
    const digest = createHash('sha256').update(identity).digest('hex').slice(0, 24);
    return { id: `${REGISTER_DEFINITIONS[d.register].idPrefix}_${digest}`, ...d };
  });
}

/** Parsed rows of one register → its records with stable ids. */
export function normaliseRegister(register: RegisterName, rows: EsmaRow[]): MicaRecord[] {
  return assignIds(rows.map((r) => normaliseRow(register, r)));
}

/** A digest of everything a record says, so an import can tell a changed record from an unchanged one. */
export function contentHash(record: MicaRecord): string {
  return createHash('sha256').update(canonicalJson(record)).digest('hex');
}

/** JSON with object keys sorted, so equal records give equal text whatever built them. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function serviceLabel(code: string): string {
  return SERVICE_LABELS[code] ?? code;
}
