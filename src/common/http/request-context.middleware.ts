import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export type RequestWithContext = Request & { requestId: string; startedAt: bigint };

/** Gives every request an id (the caller's, when it is sane) and echoes it on the response. */
export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  const r = req as RequestWithContext;
  r.requestId = id;
  r.startedAt = process.hrtime.bigint();
  res.setHeader('X-Request-Id', id);
  next();
}

export const API_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
};

/** The usual security headers; the documentation UI gets no CSP since it runs its own scripts. */
export function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  for (const [name, value] of Object.entries(API_HEADERS)) {
    if (name === 'Content-Security-Policy' && req.path.startsWith('/api/docs')) continue;
    res.setHeader(name, value);
  }
  next();
}
