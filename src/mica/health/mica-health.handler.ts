import type { Request, RequestHandler, Response } from 'express';
import type { MicaKeyGuard } from '../../auth/mica-key.guard';
import type { AuthenticatedRequest } from '../../auth/principal';
import { fastGetRoute } from '../../common/http/fast-route';
import type { JsonLogger } from '../../common/logging/json-logger';
import { refuseUnknownQuery } from '../../common/http/strict-query';
import type { MicaHealthService } from './mica-health.service';

const NO_QUERY: ReadonlySet<string> = new Set();

export const MICA_HEALTH_PATH = '/api/mica/v1/health';

/** `GET /api/mica/v1/health` ahead of Nest's router: MicaHealthController's guard and answer. */
export function micaHealthHandler(guard: MicaKeyGuard, health: MicaHealthService, logger: JsonLogger): RequestHandler {
  return fastGetRoute(MICA_HEALTH_PATH, logger, async (req: Request, res: Response) => {
    await guard.authenticate(req as AuthenticatedRequest, res);
    refuseUnknownQuery(req.query, NO_QUERY);
    return health.report();
  });
}
