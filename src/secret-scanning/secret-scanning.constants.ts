/** Mounted ahead of Nest's router (configureApp), so the path carries the global prefix. */
export const SECRET_SCANNING_PATH = '/api/secret-scanning';
/** GitHub batches up to 1,000 matches in one report; 1 MB holds them with long URLs. */
export const SECRET_SCANNING_BODY_LIMIT_BYTES = 1024 * 1024;
/** Reports per request; GitHub sends at most this many. */
export const MAX_REPORTED_TOKENS = 1000;
export const SECRET_SCANNING_SECURITY = 'secret-scanning-token';
export const GITHUB_SIGNATURE_SECURITY = 'github-signature';
