import type { Request, RequestHandler, Response } from 'express';
import { fastGetRoute } from '../common/http/fast-route';
import type { JsonLogger } from '../common/logging/json-logger';
import type { InstanceAuthGuard } from './instance-auth.guard';
import type { AuthenticatedRequest } from './principal';
import { verifiedKey } from './verify.controller';
import { checkVerifyQuery } from './verify-query';

export const VERIFY_PATH = '/api/auth/verify';

/** `GET /api/auth/verify` ahead of Nest's router: VerifyController's guard, query check and answer. */
export function verifyHandler(guard: InstanceAuthGuard, logger: JsonLogger): RequestHandler {
  return fastGetRoute(VERIFY_PATH, logger, async (req: Request, res: Response) => {
    await guard.authenticate(req as AuthenticatedRequest, res, req.query.service, () => checkVerifyQuery(req.query));
    res.setHeader('Cache-Control', 'no-store');
    return verifiedKey((req as AuthenticatedRequest).principal, res);
  });
}
