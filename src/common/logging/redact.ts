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

/**
 * The deployment's own secrets (ADMIN_TOKEN, the passwords of DATABASE_URL and REDIS_URL): they have
 * no recognisable shape, so they are matched literally, as written and percent-encoded, wherever they
 * appear (a token pasted into a URL path ends up in the access log and an audit entry otherwise).
 */
const configuredSecrets = new Set<string>();
/** Shorter strings would redact ordinary words; every configured secret is far longer (ADMIN_TOKEN ≥ 32). */
const MIN_CONFIGURED_SECRET = 8;

export function registerConfiguredSecrets(secrets: Array<string | undefined | null>): void {
  for (const secret of secrets) {
    if (!secret || secret.length < MIN_CONFIGURED_SECRET) continue;
    configuredSecrets.add(secret);
    configuredSecrets.add(encodeURIComponent(secret));
  }
}

/** The password of a connection URL, if it has one (decoded, as the driver uses it). */
export function urlPassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}

/** A request path as a reader would see it: percent-decoding cannot then hide a secret from redaction. */
export function readablePath(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function redactText(text: string): string {
  let out = text;
  for (const secret of configuredSecrets) if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

const SECRET_FIELDS = /^(authorization|x-api-key|apikey|api_key|key|token|managementtoken|password|secret|adminToken)$/i;

/** Copies a value for logging, dropping fields named like secrets and scrubbing strings. */
export function redactValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object' || depth > 6) return value;
  if (value instanceof Error)
    return { name: value.name, message: redactText(value.message), stack: value.stack && redactText(value.stack) };
  if (Array.isArray(value)) return value.map((v) => redactValue(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = SECRET_FIELDS.test(k) ? '[REDACTED]' : redactValue(v, depth + 1);
  }
  return out;
}
