import { ERROR_CODES, ErrorCode } from './error-codes';

export type ErrorDetails = Record<string, string[]>;

/** The one exception type the application throws on purpose; the filter turns it into the envelope. */
export class AppException extends Error {
  readonly status: number;
  /** On a 429: the limiter that refused (its rule name), for the refusal metrics. */
  limiter?: string;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetails,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers?: Record<string, string>,
    /** Only where SPEC names one code under two statuses (KEY_NOT_ACTIVE: 409 for the key acted on, 403 for the acting key). */
    status?: number,
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.status = status ?? ERROR_CODES[code].status;
  }
}
