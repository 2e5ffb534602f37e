import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EsmaParseError, parseEsmaCsv } from './esma.parser';

const fixture = (name: string) => readFileSync(path.resolve(__dirname, '../../../test/fixtures/esma', name));

describe('parseEsmaCsv', () => {
  it('reads a file with a BOM, CRLF lines, a trailing unnamed column and quoted newlines, one row per record', () => {
    const rows = parseEsmaCsv('CASPS', fixture('week1/CASPS.csv'));
    expect(rows).toHaveLength(5);
    expect(Object.keys(rows[0])[0]).toBe('ae_competentAuthority');
    expect(Object.keys(rows[0])).not.toContain('');
    expect(rows[1].ae_address).toBe('Leoforos 5\r\nAthens');
    expect(rows[1].ac_serviceCode).toContain('\r\ne. execution');
  });

  it('drops the four unnamed columns of OTHER', () => {
    const rows = parseEsmaCsv('OTHER', fixture('week1/OTHER.csv'));
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0])).toHaveLength(13);
  });

  it('reads a header-only file as no rows', () => {
    expect(parseEsmaCsv('ARTZZ', fixture('week1/ARTZZ.csv'))).toEqual([]);
  });

  it('refuses a file with an unclosed quote', () => {
    expect(() => parseEsmaCsv('CASPS', fixture('broken/CASPS.csv'))).toThrow(EsmaParseError);
  });

  it('refuses a file that lacks the register columns, such as an HTML error page or another register', () => {
    expect(() => parseEsmaCsv('CASPS', '<html><body>Service unavailable</body></html>')).toThrow(/lacks the columns/);
    expect(() => parseEsmaCsv('CASPS', fixture('week1/NCASP.csv'))).toThrow(/ac_serviceCode/);
  });
});
