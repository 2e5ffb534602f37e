import { parse } from 'csv-parse/sync';
import { REGISTER_DEFINITIONS, RegisterName } from './registers';

export class EsmaParseError extends Error {}

export type EsmaRow = Record<string, string>;

/**
 * Reads one of ESMA's CSV files into rows keyed by column name. ESMA's exports start with a BOM,
 * end header rows with unnamed columns and quote fields holding newlines; the unnamed columns are
 * dropped. A file that is not valid CSV, or lacks the register's columns (an HTML error page, a
 * different file), is refused as a whole.
 */
export function parseEsmaCsv(register: RegisterName, content: Buffer | string): EsmaRow[] {
  let rows: EsmaRow[];
  let header: string[] = [];
  try {
    rows = parse<EsmaRow>(content, {
      bom: true,
      columns: (names: string[]) => {
        header = names.map((n) => n.trim());
        return header.map((n) => n || false);
      },
      relax_column_count: true,
      skip_empty_lines: true,
    });
  } catch (e) {
    throw new EsmaParseError(`${register}.csv is not valid CSV: ${(e as Error).message}`);
  }
  const missing = REGISTER_DEFINITIONS[register].requiredColumns.filter((c) => !header.includes(c));
  if (missing.length) throw new EsmaParseError(`${register}.csv lacks the columns ${missing.join(', ')}`);
  return rows;
}
