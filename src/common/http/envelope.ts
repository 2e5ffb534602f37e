import type { Request, Response } from 'express';
import { ERROR_CODES, ErrorCode } from '../errors/error-codes';
import type { ErrorDetails } from '../errors/app.exception';
import { challengeFor } from './www-authenticate';

export interface Pagination {
  total: number;
  returned: number;
  limit: number;
  offset: number;
  hasMore: boolean;
}

export interface ResponseMetadata {
  requestId: string;
  timestamp: string;
  [extra: string]: unknown;
}

export function requestIdOf(req: Request): string {
  return (req as Request & { requestId?: string }).requestId ?? 'unknown';
}

export function metadataFor(req: Request, extra?: Record<string, unknown>): ResponseMetadata {
  return { requestId: requestIdOf(req), timestamp: new Date().toISOString(), ...extra };
}

export function errorBody(req: Request, code: ErrorCode, message?: string, details?: ErrorDetails) {
  return {
    success: false as const,
    error: { code, message: message ?? ERROR_CODES[code].message, ...(details ? { details } : {}) },
    metadata: metadataFor(req),
  };
}

/** Writes the error envelope directly; used where Nest's filters cannot reach (body parsing, raw middleware). */
export function sendError(
  req: Request,
  res: Response,
  code: ErrorCode,
  message?: string,
  details?: ErrorDetails,
  headers?: Record<string, string>,
  /** Only where one code answers with two statuses (KEY_NOT_ACTIVE: 409 on the key, 403 on the acting key). */
  status: number = ERROR_CODES[code].status,
): void {
  if (res.headersSent) return;
  for (const [name, value] of Object.entries(headers ?? {})) res.setHeader(name, value);
  // Every 401 names its scheme; a guard whose code is ambiguous (UNAUTHORIZED) passes its own.
  if (status === 401 && !res.hasHeader('WWW-Authenticate')) res.setHeader('WWW-Authenticate', challengeFor(code));
  res.status(status).json(errorBody(req, code, message, details));
}
