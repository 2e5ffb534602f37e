/**
 * Last line of defence: whatever reaches a log line is scrubbed of anything shaped like a credential,
 * even if a caller forgot to leave it out. Instance keys, MiCA keys, bare 48/64-hex secrets and
 * bearer tokens are replaced.
 */
const PATTERNS: Array<[RegExp, string]> = [
  [/trusset_mica_[A-Za-z0-9]*/g, 'trusset_mica_[REDACTED]'],
  [/whsec_[A-Za-z0-9+/=]*/g, 'whsec_[REDACTED]'],
  [/trusset_[A-Za-z0-9]{1,16}_[A-Za-z0-9]*/g, 'trusset_[REDACTED]'],
  [/(bearer\s+)[^\s",]+/gi, '$1[REDACTED]'],
  [/\b[0-9a-fA-F]{32,}\b/g, '[REDACTED]'],
];

export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const SECRET_FIELDS = /^(authorization|x-api-key|apikey|api_key|key|token|managementtoken|password|secret|adminToken)$/i;

/** Copies a value for logging, dropping fields named like secrets and scrubbing strings. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error) return { name: value.name, message: redactText(value.message), stack: value.stack && redactText(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_FIELDS.test(k) ? '[REDACTED]' : redactValue(v, depth + 1);
  }
  return out;
}
