import { ERROR_CODES, ErrorCode } from './error-codes';

export type ErrorDetails = Record<string, string[]>;

/** The one exception type the application throws on purpose; the filter turns it into the envelope. */
export class AppException extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details?: ErrorDetails,
    /** Extra response headers, e.g. Retry-After on 429. */
    readonly headers?: Record<string, string>,
    /** Overrides the code's status where the contract gives one code two (KEY_NOT_ACTIVE for the acting key is 403). */
    status?: number,
  ) {
    super(message ?? ERROR_CODES[code].message);
    this.status = status ?? ERROR_CODES[code].status;
  }
}
