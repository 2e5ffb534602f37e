import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AppException } from '../common/errors/app.exception';
import { LIMIT_RULES, LimitRules } from '../rate-limit/limit-rules';
import { RateLimiterService } from '../rate-limit/rate-limiter.service';
import type { AuthenticatedRequest } from '../auth/principal';
import { BRAKE } from '../auth/brake.decorator';

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
  constructor(
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    private readonly limiter: RateLimiterService,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
    if (principal?.kind !== 'instance_key') throw new AppException('AUTH_FAILED');
    if (principal.keyStatus !== 'ACTIVE') throw keyNotActiveForManagement();
    if (this.reflector.get<boolean | undefined>(BRAKE, context.getHandler())) return true;
    await this.limiter.enforce(this.rules.keyManagement, principal.keyId);
    return true;
  }
}
