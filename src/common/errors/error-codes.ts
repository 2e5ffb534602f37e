/**
 * Every error code the API can answer with, its HTTP status and default message. This table is the
 * single source of the error envelope; modules throw AppException with one of these codes.
 */
export const ERROR_CODES = {
  VALIDATION_ERROR: { status: 400, message: 'The request is invalid.' },
  AUTH_REQUIRED: { status: 401, message: 'An API key is required in the X-API-Key header.' },
  AUTH_FAILED: { status: 401, message: 'Authentication failed.' },
  UNAUTHORIZED: { status: 401, message: 'Authentication is required.' },
  INVALID_TOKEN: { status: 401, message: 'The token is invalid.' },
  INVALID_KEY: { status: 401, message: 'The API key is invalid.' },
  INVALID_SIGNATURE: { status: 401, message: 'The report signature could not be verified.' },
  SERVICE_NOT_ENABLED: { status: 403, message: 'The requested service is not enabled for this instance.' },
  INSUFFICIENT_SCOPE: { status: 403, message: 'The token does not have the scope this operation needs.' },
  IP_NOT_ALLOWED: { status: 403, message: 'This key may not be used from this address.' },
  PRIVILEGE_EXCEEDED: { status: 403, message: 'A key cannot grant more than it holds itself.' },
  NOT_FOUND: { status: 404, message: 'The resource was not found.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'The method is not allowed on this resource.' },
  KEY_LIMIT_REACHED: { status: 409, message: 'The maximum number of active keys has been reached.' },
  KEY_NOT_ACTIVE: { status: 409, message: 'The key is not in a state that allows this operation.' },
  ALREADY_REVOKED: { status: 409, message: 'The key is already revoked.' },
  EMAIL_EXISTS: { status: 409, message: 'An account with this email already exists.' },
  INSTANCE_ARCHIVED: { status: 409, message: 'The instance is archived.' },
  ACCOUNT_ERASED: { status: 409, message: 'The account has been erased.' },
  WEBHOOK_LIMIT_REACHED: { status: 409, message: 'The maximum number of webhook endpoints has been reached.' },
  CONFLICT: { status: 409, message: 'The request conflicts with the current state.' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, message: 'A request with this Idempotency-Key is still being processed; retry later.' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, message: 'This Idempotency-Key was used with a different request.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON (Content-Type: application/json).' },
  REQUEST_HEADER_FIELDS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  RATE_LIMIT_EXCEEDED: { status: 429, message: 'Too many requests. Retry after the time given in Retry-After.' },
  AUTH_ERROR: { status: 500, message: 'Authentication could not be completed.' },
  INTERNAL_ERROR: { status: 500, message: 'An internal error occurred.' },
  BAD_GATEWAY: { status: 502, message: 'An upstream source could not be read.' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;
