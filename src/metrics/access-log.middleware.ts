import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { MetricsService } from './metrics.service';
import type { JsonLogger } from '../common/logging/json-logger';
import { readablePath } from '../common/logging/redact';
import { canonicalAddress } from '../common/net/client-address';
import type { RequestWithContext } from '../common/http/request-context.middleware';

/**
 * One log line and one metrics sample per request, labelled by the route pattern (never the raw
 * path, which would carry ids and blow up the label set). Headers are not logged at all.
 */
export function accessLog(logger: JsonLogger, metrics: MetricsService): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // Routes answered ahead of Nest's router name themselves in res.locals.route.
    const routeOf = () => {
      const path = (req.route as { path?: string } | undefined)?.path;
      return path ? `${req.baseUrl ?? ''}${path}` : ((res.locals.route as string | undefined) ?? 'unmatched');
    };
    let answered = false;
    res.on('close', () => {
      // Closed without 'finish': the client went away (or timed out) before the answer was handed
      // over. writableFinished is no guide here: an answer written to a socket already gone counts
      // as finished there, yet 'finish' never fires.
      if (!answered) metrics.httpAborted.inc({ method: req.method, route: routeOf() });
    });
    res.on('finish', () => {
      answered = true;
      const r = req as RequestWithContext;
      const seconds = Number(process.hrtime.bigint() - r.startedAt) / 1e9;
      const route = routeOf();
      metrics.observeRequest(req.method, route, res.statusCode, seconds);
      if (res.statusCode === 429) metrics.rateLimitRefusals.inc({ limiter: (res.locals.limiter as string | undefined) ?? 'unknown' });
      if (logger.enabled('info')) {
        logger.event('info', 'request', {
          requestId: r.requestId,
          method: req.method,
          route,
          // originalUrl's path: req.path is relative to the mount point of a route answered ahead of Nest.
          path: readablePath(pathOf(req.originalUrl)),
          status: res.statusCode,
          ms: Math.round(seconds * 1e5) / 100,
          ip: canonicalAddress(req.ip),
        });
      }
    });
    next();
  };
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
