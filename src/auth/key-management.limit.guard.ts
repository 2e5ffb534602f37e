import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { LimitRule, MINUTE_MS, RateLimiterService, rateLimitExceeded } from '../rate-limit/rate-limiter.service';
import type { AuthenticatedRequest } from './principal';
import { BRAKE } from './brake.decorator';

/** 403, not the 409 of a key that cannot make a transition: here the caller's own key lacks the right. */
export const keyNotActiveForManagement = () =>
  new AppException('KEY_NOT_ACTIVE', 'Only an ACTIVE key can manage keys; this key is in its rotation overlap.', undefined, undefined, 403);

/**
 * The self-service key changes: only an ACTIVE key manages keys (a key in its rotation overlap gets
 * 403 KEY_NOT_ACTIVE before it spends anything; the service checks again inside the transaction),
 * and the key-management limit (SPEC §9) is counted per acting key, so one leaked key cannot spend
 * the allowance of the instance's other keys. Runs after the instance-key guard; its X-RateLimit-*
 * headers are those of the per-key limit, so this one only speaks when it refuses.
 */
@Injectable()
export class KeyManagementLimitGuard implements CanActivate {
  private readonly rule: LimitRule;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly limiter: RateLimiterService,
    private readonly reflector: Reflector,
  ) {
    this.rule = { name: 'key-management', limit: config.rateLimits.keyManagementPerMinute, windowMs: MINUTE_MS };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.kind !== 'instance_key') throw new AppException('AUTH_FAILED');
    if (principal.keyStatus !== 'ACTIVE') throw keyNotActiveForManagement();
    if (this.reflector.get<boolean | undefined>(BRAKE, context.getHandler())) return true;
    const state = await this.limiter.consume(this.rule, principal.keyId);
    if (state?.exceeded) throw rateLimitExceeded(state);
    return true;
  }
}
