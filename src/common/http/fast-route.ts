import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppException } from '../errors/app.exception';
import type { JsonLogger } from '../logging/json-logger';
import { metadataFor, sendError } from './envelope';

/**
 * A GET route answered ahead of Nest's router, for the few routes the whole platform hits on every
 * request (the key checks): Nest's per-route machinery costs more than the check itself (README,
 * Benchmark). `answer` does what the route's guard and controller do and returns the `data` of the
 * envelope; failures become the same error envelope the filter would send. The route's Nest
 * controller stays the declared form (OpenAPI, and any Nest app importing the module).
 */
export function fastGetRoute(path: string, logger: JsonLogger, answer: (req: Request, res: Response) => Promise<unknown>): RequestHandler {
  const handler: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    // Mounted on the path: anything below it, or another method, falls through to Nest (404 there).
    if (req.method !== 'GET' || (req.path !== '/' && req.path !== '')) return next();
    res.locals.route = path;
    answer(req, res)
      .then((data) => res.status(200).json({ success: true, data, metadata: metadataFor(req) }))
      .catch((e: unknown) => {
        if (e instanceof AppException && e.limiter) res.locals.limiter = e.limiter;
        if (e instanceof AppException) return sendError(req, res, e.code, e.message, e.details, e.headers, e.status);
        logger.event('error', 'request failed', { requestId: (req as { requestId?: string }).requestId, route: path, err: e });
        sendError(req, res, 'INTERNAL_ERROR');
      });
  };
  return handler;
}
