import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseEsmaCsv } from './esma.parser';
import {
  contentHash,
  normaliseRegister,
  parseCountryList,
  parseEsmaDate,
  parseLei,
  parseServiceCodes,
  parseWebsites,
} from './esma.normalizer';

const load = (week: string, register: 'CASPS' | 'OTHER' | 'NCASP' | 'EMTWP') =>
  normaliseRegister(
    register,
    parseEsmaCsv(register, readFileSync(path.resolve(__dirname, '../../../test/fixtures/esma', week, `${register}.csv`))),
  );

describe('ESMA normaliser', () => {
  it('reads dd/mm/yyyy and d/m/yyyy dates and rejects impossible or free-text ones', () => {
    expect(parseEsmaDate('09/04/2025')).toBe('2025-04-09');
    expect(parseEsmaDate(' 1/7/2025 ')).toBe('2025-07-01');
    expect(parseEsmaDate('31/02/2025')).toBeNull();
    expect(parseEsmaDate('n/a')).toBeNull();
    expect(parseEsmaDate(' ')).toBeNull();
  });

  it('turns hand-typed service codes into letters, trusting the label over a mistyped letter', () => {
    expect(
      parseServiceCodes(
        'a. providing custody and administration of crypto-assets on behalf of clients | c. exchange of crypto-assets for funds',
      ).codes,
    ).toEqual(['a', 'c']);
    expect(
      parseServiceCodes(
        'c. exchange of crypto-assets for funds I d. exchange of crypto-assets for other crypto-assets\ne. execution of orders',
      ).codes,
    ).toEqual(['c', 'd', 'e']);
    expect(parseServiceCodes('c. exchange of crypto-assets for other crypto-assets, e. placing of crypto-assets').codes).toEqual([
      'd',
      'f',
    ]);
    expect(
      parseServiceCodes(
        'Reception and transmission of client orders/ Exchange between crypto assets and fiat currency/ Exchange between crypto assets',
      ).codes,
    ).toEqual(['c', 'd', 'g']);
    expect(parseServiceCodes('h. providing advice on crypto-assets;\ni.').codes).toEqual(['h', 'i']);
    expect(parseServiceCodes('a.\tproviding custody | b. operation of a trading platform for crypto-assets |').codes).toEqual(['a', 'b']);
    expect(parseServiceCodes('something else entirely')).toEqual({ codes: [], unrecognised: ['something else entirely'] });
  });

  it('maps Greece to GR whether ESMA writes EL or GR, without duplicates', () => {
    expect(parseCountryList('EL|GR|CY')).toEqual(['CY', 'GR']);
    expect(parseCountryList(' at | de ,el')).toEqual(['AT', 'DE', 'GR']);
  });

  it('keeps valid LEIs and sets free text aside', () => {
    expect(parseLei(' 529900alpha000000017 ')).toEqual({ lei: '529900ALPHA000000017', text: null });
    expect(parseLei('N/A')).toEqual({ lei: null, text: null });
    expect(parseLei('7404987 (US Delaware File Number)')).toEqual({ lei: null, text: '7404987 (US Delaware File Number)' });
    expect(parseLei('')).toEqual({ lei: null, text: null });
  });

  it('splits several websites in one cell', () => {
    expect(parseWebsites('https://a.example|https://b.example | https://a.example')).toEqual(['https://a.example', 'https://b.example']);
  });

  it('normalises a CASP row: trimmed authority, EL home state, multi-line fields, services and passports', () => {
    const beta = load('week1', 'CASPS').find((r) => r.entityName === 'Beta Exchange AE')!;
    expect(beta).toMatchObject({
      licenseType: 'CASP',
      entityType: 'provider',
      countryCode: 'GR',
      country: 'Greece',
      nationalAuthority: 'Hellenic Capital Market Commission (HCMC)',
      address: 'Leoforos 5 Athens',
      authorizationDate: '2025-07-01',
      services: ['c', 'd', 'e'],
      passportedCountries: ['CY', 'GR'],
      comments: 'Two-line\ncomment',
      websitePlatform: 'https://app.beta.example',
    });
    const gamma = load('week1', 'CASPS').find((r) => r.entityName === 'Gamma Custody S.A.')!;
    expect(gamma).toMatchObject({ entityIdentifier: null, authorizationEndDate: '2020-12-31', services: ['a', 'c', 'g'] });
    expect(load('week1', 'CASPS').some((r) => r.entityName.includes('\ufffd'))).toBe(true);
  });

  it('keeps every row, giving rows that share an identity distinct ids', () => {
    const ncasp = load('week1', 'NCASP');
    expect(ncasp).toHaveLength(3);
    expect(new Set(ncasp.map((r) => r.id)).size).toBe(3);
    expect(ncasp[0]).toMatchObject({
      entityIdentifier: null,
      websites: ['https://scam1.example', 'https://scam2.example', 'https://scam3.example'],
      details: { decisionDate: '2025-02-12' },
    });
    const emt = load('week1', 'EMTWP');
    expect(new Set(emt.map((r) => r.id)).size).toBe(2);
  });

  it('keeps ids stable when rows move and content changes, and the content hash tells changed from unchanged', () => {
    const week1 = new Map(load('week1', 'CASPS').map((r) => [r.entityName, r]));
    const week2 = new Map(load('week2', 'CASPS').map((r) => [r.entityName, r]));
    for (const name of ['Alpha Crypto GmbH', 'Beta Exchange AE', 'Gamma Custody S.A.'])
      expect(week2.get(name)!.id).toBe(week1.get(name)!.id);
    expect(contentHash(week2.get('Beta Exchange AE')!)).toBe(contentHash(week1.get('Beta Exchange AE')!));
    expect(contentHash(week2.get('Alpha Crypto GmbH')!)).not.toBe(contentHash(week1.get('Alpha Crypto GmbH')!));
    expect(load('week1', 'CASPS').map((r) => r.id)).toEqual(load('week1', 'CASPS').map((r) => r.id));
  });

  it('records the white-paper columns of OTHER and sets a free-text LEI aside', () => {
    const other = load('week1', 'OTHER');
    const delaware = other.find((r) => r.entityName === 'Delaware Coin Inc')!;
    expect(delaware).toMatchObject({ entityType: 'whitepaper', entityIdentifier: null, passportedCountries: ['GR', 'IE'] });
    expect(delaware.details).toMatchObject({
      leiText: '7404987 (US Delaware File Number)',
      whitepaperUrl: 'https://delaware.example/wp',
      offeredViaCaspLei: '529900ALPHA000000017',
    });
  });
});
