import type { Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import type { JsonLogger } from '../common/logging/json-logger';
import { enforceLimits, LimitState, LimitWindowSuffix } from '../rate-limit/rate-limiter.service';
import type { MetricsService } from '../metrics/metrics.service';
import { countWhenAdmitted } from '../usage/count-admitted';
import type { RefusalReason, UsageKind, UsageTracker } from '../usage/usage.tracker';

/** The `guard` label of auth_decisions_total. */
export type GuardName = 'instance_key' | 'mica_key' | 'admin' | 'management_token';

/** Outcomes every guard has; each adds its own refusals. */
type CommonOutcome = 'missing' | 'failed' | 'rate_limited' | 'passed' | 'error';

interface Counted {
  inc(): void;
}

/**
 * The skeleton every credential guard runs its own check in, so they all take the same steps the
 * same way: an undecidable check is AUTH_ERROR (counted, logged, never a pass and never a 401);
 * every outcome is counted in auth_decisions_total under the guard's name; a found key refused by a
 * limit or a restriction counts as that key's refusal; and a key's use is counted for admitted
 * requests only, once the answer is known (a body the validation pipe refuses later is not use).
 * What a guard checks, and in which order, stays the guard's.
 */
export class GuardSkeleton<Outcome extends string> {
  // One labelled child per outcome, resolved once: a label lookup per request costs more than a cached check.
  private readonly outcomes: Record<Outcome | CommonOutcome, Counted>;
  private readonly undecidableMessage: string;
  private readonly usage?: { tracker: UsageTracker; kind: UsageKind };

  constructor(
    options: {
      guard: GuardName;
      /** The credential, as log lines name it. */
      what: string;
      /** The guard's own outcomes besides missing, failed, rate_limited, passed and error. */
      outcomes: readonly Outcome[];
      /** Where an admitted key's use is counted; none for a credential without usage. */
      usage?: { tracker: UsageTracker; kind: UsageKind };
    },
    metrics: MetricsService,
    private readonly logger: JsonLogger,
  ) {
    const all: ReadonlyArray<Outcome | CommonOutcome> = ['missing', 'failed', 'rate_limited', 'passed', 'error', ...options.outcomes];
    this.outcomes = Object.fromEntries(
      all.map((o) => [o, metrics.authDecisions.labels(options.guard, o)]),
    ) as GuardSkeleton<Outcome>['outcomes'];
    this.undecidableMessage = `${options.what} check undecidable`;
    this.usage = options.usage;
  }

  outcome(outcome: Outcome | CommonOutcome): void {
    this.outcomes[outcome].inc();
  }

  /** A check that could not be decided (the database did not answer in time): counted and logged; the caller answers AUTH_ERROR. */
  undecidable(error: unknown, requestId: string | undefined): void {
    this.outcomes.error.inc();
    this.logger.event('warn', this.undecidableMessage, { requestId, err: (error as Error).message });
  }

  /** Awaits a check that throws on its own: an undecidable one is answered AUTH_ERROR. */
  async check<T>(pending: Promise<T>, requestId: string | undefined): Promise<T> {
    try {
      return await pending;
    } catch (e) {
      this.undecidable(e, requestId);
      throw new AppException('AUTH_ERROR');
    }
  }

  /** A found key refused for `reason`: the hour's refusals of the key, and the outcome. */
  refuse(keyId: string, reason: RefusalReason, outcome: Outcome | CommonOutcome): void {
    this.usage?.tracker.refuse(this.usage.kind, keyId, reason);
    this.outcomes[outcome].inc();
  }

  /**
   * The limits of a found key: their headers on `res`, and when one is spent the key's refusal,
   * `rate_limited` and the 429 (thrown).
   */
  limit(keyId: string, res: Response, ...limits: Array<readonly [LimitState | undefined, LimitWindowSuffix]>): void {
    try {
      enforceLimits(res, ...limits);
    } catch (e) {
      this.refuse(keyId, 'RATE_LIMIT_EXCEEDED', 'rate_limited');
      throw e;
    }
  }

  /** Counts the key's use once the answer is known to be an admitted one (not 400, 401, 403 or 429). */
  countAdmitted(keyId: string, res: Response): void {
    if (this.usage) countWhenAdmitted(this.usage.tracker, this.usage.kind, keyId, res);
  }

  /** Counts the key's use now, for a caller that has written an admitted answer itself (the raw lane). */
  recordAdmitted(keyId: string): void {
    this.usage?.tracker.record(this.usage.kind, keyId);
  }
}
