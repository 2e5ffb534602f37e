import type { Response } from 'supertest';

/**
 * What an error body must never reveal: SQL, driver errors, stack frames, or anything 64-hex (a
 * digest or a token). Returns the first offence found, or undefined.
 */
export function leakIn(body: unknown): string | undefined {
  const text = typeof body === 'string' ? body : JSON.stringify(body ?? '');
  const offences: Array<[string, RegExp]> = [
    ['a driver error', /QueryFailedError|DriverError|PostgresError|duplicate key value|violates|relation "|syntax error at/i],
    ['SQL', /\b(SELECT\s[\s\S]*\sFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM)\b/i],
    ['a stack trace', /\n\s+at\s|\bat\s+\S+\s+\([^)]*:\d+:\d+\)|\.ts:\d+:\d+/],
    ['a 64-hex digest or token', /(?<![0-9A-Fa-f])[0-9a-fA-F]{64}(?![0-9A-Fa-f])/],
  ];
  for (const [name, pattern] of offences) if (pattern.test(text)) return name;
  return undefined;
}

/** Describes why a response is not the service's JSON envelope, or undefined when it is. */
export function envelopeProblem(res: Response): string | undefined {
  if (!/^application\/json/.test(res.headers['content-type'] ?? '')) return `content-type ${res.headers['content-type']}`;
  const b = res.body;
  if (typeof b !== 'object' || b === null) return 'no JSON object';
  if (typeof b.metadata?.requestId !== 'string' || typeof b.metadata?.timestamp !== 'string') return 'no metadata';
  if (res.headers['x-request-id'] !== b.metadata.requestId) return 'X-Request-Id differs from metadata.requestId';
  if (res.status < 400) return b.success === true && 'data' in b ? undefined : 'success without data';
  if (b.success !== false || typeof b.error?.code !== 'string' || typeof b.error?.message !== 'string') return 'malformed error';
  const leak = leakIn(b);
  return leak ? `error body reveals ${leak}` : undefined;
}
