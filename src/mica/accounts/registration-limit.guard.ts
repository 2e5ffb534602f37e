import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { addressLimitKey } from '../../common/net/client-address';
import { LIMIT_RULES, LimitRules } from '../../rate-limit/limit-rules';
import { RateLimiterService } from '../../rate-limit/rate-limiter.service';

/**
 * The strict per-address limit on self-registration, counted before anything else so that every
 * attempt (valid, invalid or duplicate) spends the allowance. Its bucket is separate from failed
 * authentication, so neither can be used to exhaust the other.
 */
@Injectable()
export class RegistrationLimitGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    private readonly limiter: RateLimiterService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    await this.limiter.enforce(
      this.rules.registration,
      addressLimitKey(req.ip, this.config.rateLimits.ipv6Prefix),
      context.switchToHttp().getResponse<Response>(),
    );
    return true;
  }
}
