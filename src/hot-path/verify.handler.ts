import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { requestIdOf } from '../common/http/envelope';
import { VERIFY_PATH, VerifyAnswer } from './verify.answer';
import { verifyQueryProblem } from '../auth/verify-query';

export { VERIFY_PATH };

/**
 * `GET /api/auth/verify` on the Express stack, ahead of Nest's router: the requests the raw lane
 * (src/hot-path) leaves to Express (a query it does not parse itself, an Origin, a body) get the
 * same answer function, after Express's query parser and middleware.
 */
export function verifyHandler(answer: VerifyAnswer): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    // Mounted on the path: anything below it, or another method, falls through to Nest (404 there).
    if ((req.method !== 'GET' && req.method !== 'HEAD') || (req.path !== '/' && req.path !== '')) return next();
    res.locals.route = VERIFY_PATH;
    void answer.answer(req, res, requestIdOf(req), req.query.service, false, verifyQueryProblem(req.query));
  };
}
