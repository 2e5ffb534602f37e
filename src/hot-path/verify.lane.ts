import type { LaneRoute } from './hot-path.lane';
import type { VerifyAnswer } from './verify.answer';

const SERVICE_QUERY = /^service=[a-z]{1,32}$/;

/**
 * GET /api/auth/verify on the raw lane: no query, or exactly `service=<lower-case name>`. Any other
 * query (encoded, repeated, empty, extra parameters) goes to the Express fallback, whose query
 * parser and validation decide it as before.
 */
export function verifyLaneRoute(answer: VerifyAnswer): LaneRoute {
  return (req, res, query, requestId) => {
    if (query === '') return answer.answer(req, res, requestId, undefined, true);
    if (!SERVICE_QUERY.test(query)) return undefined;
    return answer.answer(req, res, requestId, query.slice(8), true);
  };
}
