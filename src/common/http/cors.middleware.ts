import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { corsDecision } from './cors';

/** CORS_ORIGINS on every route (see cors.ts); a no-op when the list is empty. */
export function corsMiddleware(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req: Request, res: Response, next: NextFunction) => {
    if (allowed.size === 0) return next();
    const origin = req.headers.origin;
    const requestMethod = req.headers['access-control-request-method'];
    const decision = corsDecision(allowed, {
      method: req.method,
      origin,
      requestMethod: typeof requestMethod === 'string' ? requestMethod : undefined,
    });
    for (const [name, value] of Object.entries(decision.headers)) res.setHeader(name, value);
    if (decision.preflight) {
      res.locals.route = 'preflight';
      res.status(204).end();
      return;
    }
    next();
  };
}
