import type { Response } from 'express';
import type { UsageKind, UsageTracker } from './usage.tracker';

/**
 * Answers that mean the request was refused rather than served: invalid input (400), no credential
 * or a failed one (401), a service or right the key lacks (403), a spent allowance (429). SPEC §5.
 */
const REFUSED = new Set([400, 401, 403, 429]);

/**
 * Counts a key's use once its answer is known, so only admitted requests reach `requestCount`: the
 * guard runs before the validation pipe, and a body it refuses must not count as use.
 */
export function countWhenAdmitted(usage: UsageTracker, kind: UsageKind, keyId: string, res: Response): void {
  res.once('finish', () => {
    if (!REFUSED.has(res.statusCode)) usage.record(kind, keyId);
  });
}
