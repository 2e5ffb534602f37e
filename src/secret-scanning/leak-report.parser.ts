import { AppException } from '../common/errors/app.exception';
import type { LeakReport } from '../containment/containment.service';
import { MAX_REPORTED_TOKENS } from './secret-scanning.constants';

const MAX_TOKEN_CHARS = 4096;
const MAX_TEXT_CHARS = 4096;

type Format = 'github' | 'operator';

/** The fields each door reads: GitHub's `{token, type, url, source}`, the operator's `{token, type?, location?}`. */
const FIELDS: Record<Format, { url: string; source?: string; strict: boolean }> = {
  // GitHub may add fields to its format; refusing them would break containment for everyone at once.
  github: { url: 'url', source: 'source', strict: false },
  // Our own format follows the API's rule: an unknown field is refused, not ignored.
  operator: { url: 'location', strict: true },
};

const invalid = (field: string, message: string) => new AppException('VALIDATION_ERROR', 'The report is invalid.', { [field]: [message] });

function optionalText(item: Record<string, unknown>, name: string, path: string): string | null {
  const value = item[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > MAX_TEXT_CHARS)
    throw invalid(`${path}.${name}`, `must be a string of at most ${MAX_TEXT_CHARS} characters`);
  return value;
}

/** The report as a list of tokens; the messages name fields, never their values (a token is a secret). */
export function parseLeakReport(body: unknown, format: Format): LeakReport[] {
  if (!Array.isArray(body)) throw invalid('body', 'must be a JSON array of reported tokens');
  if (body.length > MAX_REPORTED_TOKENS) throw invalid('body', `must hold at most ${MAX_REPORTED_TOKENS} tokens`);
  const fields = FIELDS[format];
  const allowed = new Set(['token', 'type', fields.url, ...(fields.source ? [fields.source] : [])]);
  return body.map((item: unknown, i) => {
    const path = `[${i}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) throw invalid(path, 'must be an object');
    const record = item as Record<string, unknown>;
    if (fields.strict) {
      const unknown = Object.keys(record).find((k) => !allowed.has(k));
      if (unknown !== undefined) throw invalid(`${path}.${unknown.slice(0, 50)}`, 'is not allowed');
    }
    const token = record.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_TOKEN_CHARS) {
      throw invalid(`${path}.token`, `must be a string of 1 to ${MAX_TOKEN_CHARS} characters`);
    }
    return {
      token,
      type: optionalText(record, 'type', path),
      url: optionalText(record, fields.url, path),
      source: fields.source ? optionalText(record, fields.source, path) : null,
    };
  });
}
