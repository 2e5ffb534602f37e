import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES, ErrorCode } from '../common/errors/error-codes';
import type { ErrorDetails } from '../common/errors/app.exception';
import { API_HEADERS } from '../common/http/request-context.middleware';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** The request id rule of requestContext (the caller's when sane, else a fresh UUID). */
export function requestIdFor(req: IncomingMessage): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/** What the Express middleware chain puts on every API answer, as one flat list built once. */
export const COMMON_HEADERS: readonly string[] = Object.entries(API_HEADERS).flat();

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

// The text before the request id of each code's envelope without details, made once per code.
const errorPrefixes = new Map<ErrorCode, string>();

/**
 * The error envelope as text, exactly as AllExceptionsFilter / sendError write it (JSON.stringify of
 * the same shape). Without details, only the request id (a sane id or a UUID: nothing to escape) and
 * the time change per answer, so the rest is kept as text per code.
 */
export function errorJson(code: ErrorCode, requestId: string, details?: ErrorDetails, message = ERROR_CODES[code].message): string {
  if (details || (message as string) !== ERROR_CODES[code].message) {
    return JSON.stringify({
      success: false,
      error: { code, message, ...(details ? { details } : {}) },
      metadata: { requestId, timestamp: isoNow() },
    });
  }
  let prefix = errorPrefixes.get(code);
  if (prefix === undefined) {
    prefix = `${JSON.stringify({ success: false, error: { code, message } }).slice(0, -1)},"metadata":{"requestId":"`;
    errorPrefixes.set(code, prefix);
  }
  return `${prefix}${requestId}","timestamp":"${isoNow()}"}}`;
}

let isoMs = 0;
let isoText = '';

/** `new Date().toISOString()`, written once per millisecond however many answers share it. */
export function isoNow(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoText = new Date(now).toISOString();
  }
  return isoText;
}

/**
 * Writes one whole answer in one writeHead + end. `common` adds X-Request-Id and the security
 * headers, for the raw lane where no Express middleware ran; on the Express fallback they are
 * already set on the response and writeHead merges.
 */
export function writeAnswer(
  res: ServerResponse,
  status: number,
  headers: string[],
  body: string,
  requestId: string,
  common: boolean,
): void {
  headers.push('Content-Type', JSON_CONTENT_TYPE, 'Content-Length', String(Buffer.byteLength(body)));
  if (common) headers.push('X-Request-Id', requestId, ...COMMON_HEADERS);
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * JSON with every character outside printable ASCII escaped, so a body can travel in a header
 * (nginx's auth_request keeps only the subrequest's headers): a client-chosen query name could
 * otherwise carry a line break or a non-ASCII character into a header.
 */
export function headerSafe(json: string): string {
  return PRINTABLE_ASCII.test(json) ? json : json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
