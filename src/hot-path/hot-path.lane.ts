import { performance } from 'node:perf_hooks';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { JsonLogger } from '../common/logging/json-logger';
import type { MetricsService } from '../metrics/metrics.service';
import { requestIdFor } from './hot-path.response';

/**
 * A route of the raw lane. `query` is the text after `?` ('' without one). Returns undefined to
 * leave the request to Express (a shape the lane does not take), or the promise of the status it
 * wrote.
 */
export type LaneRoute = (req: IncomingMessage, res: ServerResponse, query: string, requestId: string) => Promise<number> | undefined;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** One labelled counter and histogram child per method and status, resolved once per route. */
class RouteMetrics {
  private readonly byStatus = new Map<number, { count: { inc(): void }; duration: { observe(v: number): void } }>();

  private readonly refusals: { inc(): void };

  constructor(
    private readonly metrics: MetricsService,
    private readonly route: string,
  ) {
    this.refusals = metrics.rateLimitRefusals.labels('instance-key');
  }

  refusedByLimit(): void {
    this.refusals.inc();
  }

  observe(method: string, status: number, seconds: number): void {
    // HEAD answers are few (a gateway's subrequest), GET answers many: one number keys both.
    const id = method === 'GET' ? status : -status;
    let child = this.byStatus.get(id);
    if (!child) {
      const s = String(status);
      child = {
        count: this.metrics.httpRequests.labels(method, this.route, s),
        duration: this.metrics.httpDuration.labels(method, this.route, s),
      };
      this.byStatus.set(id, child);
    }
    child.count.inc();
    child.duration.observe(seconds);
  }
}

/**
 * The key checks every platform request goes through, answered on node:http's `request` event
 * before Express builds its request and response objects or walks its router (docs/hot-path.md).
 * Only the plain shape is taken: GET or HEAD (the nginx recipe's subrequest, see deploy/nginx), the
 * exact path, no body, no Origin (CORS stays Express's);
 * everything else goes to the Express listener unchanged, where the same answer functions are
 * mounted, so both lanes answer alike. No log line at info level: the metrics observe each answer,
 * and a debug line is written only when debug is on.
 */
export function installHotPath(server: Server, routes: Record<string, LaneRoute>, metrics: MetricsService, logger: JsonLogger): void {
  const fallback = server.listeners('request') as Listener[];
  const table = new Map(Object.entries(routes).map(([path, route]) => [path, { path, route, metrics: new RouteMetrics(metrics, path) }]));
  const express = (req: IncomingMessage, res: ServerResponse) => {
    for (const listener of fallback) listener.call(server, req, res);
  };
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '';
    const method = req.method;
    if ((method !== 'GET' && method !== 'HEAD') || url.charCodeAt(1) !== 0x61 /* a of /api */) return express(req, res);
    const q = url.indexOf('?');
    const entry = table.get(q < 0 ? url : url.slice(0, q));
    if (!entry) return express(req, res);
    const headers = req.headers;
    const length = headers['content-length'];
    if (headers.origin !== undefined || headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0'))
      return express(req, res);
    const startedAt = performance.now();
    const requestId = requestIdFor(req);
    const answered = entry.route(req, res, q < 0 ? '' : url.slice(q + 1), requestId);
    if (!answered) return express(req, res);
    void answered.then((status) => {
      const ms = performance.now() - startedAt;
      entry.metrics.observe(method, status, ms / 1000);
      // As the access log counts Express's 429s; only the per-key limit refuses on this lane.
      if (status === 429) entry.metrics.refusedByLimit();
      if (logger.enabled('debug')) {
        logger.event('debug', 'request', {
          requestId,
          method,
          route: entry.path,
          path: url.slice(0, q < 0 ? undefined : q),
          status,
          ms: Math.round(ms * 100) / 100,
          ip: req.socket.remoteAddress,
          lane: 'raw',
        });
      }
    });
  });
}
