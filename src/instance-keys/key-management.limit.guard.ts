import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { LimitRule, MINUTE_MS, RateLimiterService, rateLimitExceeded } from '../common/rate-limit/rate-limiter.service';
import type { AuthenticatedRequest } from '../auth/principal';

/**
 * The key-management limit (SPEC §9) per instance on the self-service key changes. Runs after the
 * instance-key guard; its X-RateLimit-* headers are those of the per-key limit, so this one only
 * speaks when it refuses.
 */
@Injectable()
export class KeyManagementLimitGuard implements CanActivate {
  private readonly rule: LimitRule;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly limiter: RateLimiterService,
  ) {
    this.rule = { name: 'key-management', limit: config.rateLimits.keyManagementPerMinute, windowMs: MINUTE_MS };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.kind !== 'instance_key') throw new AppException('AUTH_FAILED');
    const state = await this.limiter.consume(this.rule, principal.instanceId);
    if (state?.exceeded) throw rateLimitExceeded(state);
    return true;
  }
}
