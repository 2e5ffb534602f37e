export type BearerResult = { ok: true; token: string } | { ok: false };

/**
 * `Authorization: Bearer <token>` with the scheme matched case-insensitively. Anything else (no
 * header, another scheme, a repeated header, an empty token) is "no bearer credential".
 */
export function parseBearer(header: string | string[] | undefined): BearerResult {
  if (typeof header !== 'string') return { ok: false };
  const match = /^bearer +(\S+) *$/i.exec(header);
  return match ? { ok: true, token: match[1] } : { ok: false };
}
