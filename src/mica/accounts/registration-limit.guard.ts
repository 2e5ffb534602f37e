import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { APP_CONFIG, AppConfig } from '../../config/app.config';
import { addressLimitKey } from '../../common/net/client-address';
import { LimitRule, MINUTE_MS, RateLimiterService, rateLimitExceeded, rateLimitHeaders } from '../../rate-limit/rate-limiter.service';

/**
 * The strict per-address limit on self-registration, counted before anything else so that every
 * attempt (valid, invalid or duplicate) spends the allowance. Its bucket is separate from failed
 * authentication, so neither can be used to exhaust the other.
 */
@Injectable()
export class RegistrationLimitGuard implements CanActivate {
  private readonly rule: LimitRule;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly limiter: RateLimiterService,
  ) {
    this.rule = { name: 'mica-registration', limit: config.rateLimits.strictPerMinute, windowMs: MINUTE_MS, perAddress: true };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const state = await this.limiter.consume(this.rule, addressLimitKey(req.ip, this.config.rateLimits.ipv6Prefix));
    if (!state) return true;
    const headers = rateLimitHeaders(state);
    const res = context.switchToHttp().getResponse<Response>();
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (state.exceeded) throw rateLimitExceeded(state, headers);
    return true;
  }
}
