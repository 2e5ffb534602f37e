/**
 * CORS (SPEC §19) as a pure rule: given the request's Origin (and, for a preflight, what it asks
 * for) and the configured origins, which headers to send. No framework in here, so the Express
 * middleware below and any fast lane ahead of it answer the same.
 *
 * - Only origins listed in CORS_ORIGINS get `Access-Control-Allow-Origin` (their own origin, never
 *   `*`); an empty list allows none. Credentials are headers (X-API-Key, Authorization), never
 *   cookies, so `Access-Control-Allow-Credentials` is never sent.
 * - A preflight from an allowed origin is answered 204 with the methods and headers the API takes;
 *   from any other origin it is not a CORS answer at all (the route's usual 405), so the browser
 *   refuses the call.
 */

export const CORS_ALLOWED_METHODS = ['GET', 'POST', 'PATCH', 'DELETE'];
export const CORS_ALLOWED_HEADERS = ['Content-Type', 'X-API-Key', 'Authorization', 'Idempotency-Key', 'X-Request-Id'];
export const CORS_EXPOSED_HEADERS = [
  'X-Request-Id',
  'X-RateLimit-Limit',
  'X-RateLimit-Remaining',
  'X-RateLimit-Reset',
  'X-RateLimit-Limit-Minute',
  'X-RateLimit-Remaining-Minute',
  'X-RateLimit-Reset-Minute',
  'X-RateLimit-Limit-Day',
  'X-RateLimit-Remaining-Day',
  'X-RateLimit-Reset-Day',
  'Retry-After',
  'WWW-Authenticate',
  'X-Total-Count',
  'X-Data-Source',
];
/** How long a browser may reuse a preflight answer, in seconds. */
export const CORS_MAX_AGE_SECONDS = 600;

export interface CorsRequest {
  method: string;
  origin: string | undefined;
  /** `Access-Control-Request-Method`: present on a preflight. */
  requestMethod: string | undefined;
}

export interface CorsDecision {
  /** A preflight to answer here, 204 with `headers`, without running the route. */
  preflight: boolean;
  headers: Record<string, string>;
}

/** A normalised origin (`scheme://host[:port]`, lower case, default port dropped), or undefined when `value` is not one. */
export function normaliseOrigin(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) return undefined;
  return url.origin;
}

export function corsDecision(allowed: ReadonlySet<string>, req: CorsRequest): CorsDecision {
  if (allowed.size === 0) return { preflight: false, headers: {} };
  // Vary on every answer once CORS is on: a cache must not hand one origin's answer to another.
  const headers: Record<string, string> = { Vary: 'Origin' };
  const origin = req.origin === undefined ? undefined : normaliseOrigin(req.origin);
  if (origin === undefined || !allowed.has(origin)) return { preflight: false, headers };
  headers['Access-Control-Allow-Origin'] = origin;
  if (req.method === 'OPTIONS' && req.requestMethod !== undefined) {
    headers['Access-Control-Allow-Methods'] = CORS_ALLOWED_METHODS.join(', ');
    headers['Access-Control-Allow-Headers'] = CORS_ALLOWED_HEADERS.join(', ');
    headers['Access-Control-Max-Age'] = String(CORS_MAX_AGE_SECONDS);
    return { preflight: true, headers };
  }
  headers['Access-Control-Expose-Headers'] = CORS_EXPOSED_HEADERS.join(', ');
  return { preflight: false, headers };
}
