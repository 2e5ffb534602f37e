import type { ErrorCode } from '../errors/error-codes';

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 9110 §11.6.1), naming the scheme of the route:
 * `X-API-Key` routes (instance and MiCA keys) answer with the non-registered `ApiKey` scheme and the
 * header to use, bearer routes (admin and operator tokens, MiCA management token) with `Bearer`.
 */
export const API_KEY_CHALLENGE = 'ApiKey realm="trusset", header="X-API-Key"';
export const BEARER_CHALLENGE = 'Bearer realm="trusset"';
const INVALID_BEARER_CHALLENGE = 'Bearer realm="trusset", error="invalid_token"';

/** The challenge for a 401 whose guard named none: the code says which scheme refused it. */
export function challengeFor(code: ErrorCode): string {
  switch (code) {
    case 'AUTH_REQUIRED':
    case 'AUTH_FAILED':
    case 'INVALID_KEY':
      return API_KEY_CHALLENGE;
    case 'INVALID_TOKEN':
      return INVALID_BEARER_CHALLENGE;
    default:
      return BEARER_CHALLENGE;
  }
}
