import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { FailedAttemptsService, FailedAuthAction } from '../audit/failed-attempts.service';
import { addressLimitKey } from '../common/net/client-address';
import { LIMIT_RULES, LimitRules } from '../rate-limit/limit-rules';
import { LimitRule, RateLimiterService, rateLimitExceeded } from '../rate-limit/rate-limiter.service';

/**
 * The strict per-address limiter on failed authentication. Valid credentials are never counted or
 * refused, so an attacker sharing an address cannot lock a legitimate caller out; failures past the
 * limit get 429 instead of 401 and leave no further audit rows.
 */
@Injectable()
export class FailedAuthLimiter {
  private readonly rule: LimitRule;
  private readonly ipv6Prefix: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(LIMIT_RULES) rules: LimitRules,
    private readonly limiter: RateLimiterService,
    private readonly attempts: FailedAttemptsService,
  ) {
    this.rule = rules.failedAuth;
    this.ipv6Prefix = config.rateLimits.ipv6Prefix;
  }

  /**
   * Counts a failure from `ip`; returns the 429 to throw instead of the 401, or undefined. A failure
   * past the limit is tallied for the audit trail rather than stored on its own.
   */
  async countFailure(ip: string | undefined, action: FailedAuthAction): Promise<AppException | undefined> {
    const address = addressLimitKey(ip, this.ipv6Prefix);
    const state = await this.limiter.consume(this.rule, address);
    if (!state?.exceeded) return undefined;
    this.attempts.suppressed(address, action);
    return rateLimitExceeded(state);
  }
}
