import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { API_KEY_CHALLENGE } from '../common/http/www-authenticate';
import { JsonLogger } from '../common/logging/json-logger';
import {
  DAY_MS,
  LimitRule,
  LimitState,
  MINUTE_MS,
  RateLimiterService,
  rateLimitExceeded,
  rateLimitHeaders,
} from '../rate-limit/rate-limiter.service';
import { MetricsService } from '../metrics/metrics.service';
import { UsageTracker } from '../usage/usage.tracker';
import { countWhenAdmitted } from '../usage/count-admitted';
import { MicaKeyCheck, MicaKeyVerifier } from './mica-key.verifier';
import { AuthenticatedRequest } from './principal';

/** The per-UTC-day data allowance of a MiCA key; the usage history reads today's count from it. */
export function micaDayRule(config: AppConfig): LimitRule {
  return { name: 'mica-day', limit: config.rateLimits.micaPerDay, windowMs: DAY_MS };
}

/**
 * `X-API-Key: trusset_mica_…` on the MiCA data routes. No key or another prefix is UNAUTHORIZED;
 * malformed, unknown or revoked is INVALID_KEY; an undecidable check is AUTH_ERROR, never a pass.
 * An admitted key then spends its per-minute and per-UTC-day data allowance.
 */
@Injectable()
export class MicaKeyGuard implements CanActivate {
  private readonly minute: LimitRule;
  private readonly day: LimitRule;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly verifier: MicaKeyVerifier,
    private readonly limiter: RateLimiterService,
    private readonly usage: UsageTracker,
    private readonly metrics: MetricsService,
    private readonly logger: JsonLogger,
  ) {
    this.minute = { name: 'mica-minute', limit: config.rateLimits.micaPerMinute, windowMs: MINUTE_MS };
    this.day = micaDayRule(config);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    await this.authenticate(http.getRequest<AuthenticatedRequest>(), http.getResponse<Response>());
    return true;
  }

  /**
   * The whole check, for the guard and for the MiCA health route's handler: sets `req.principal`
   * and the rate-limit headers, or throws the SPEC §7 answer.
   */
  async authenticate(req: AuthenticatedRequest, res: Response): Promise<void> {
    let check: MicaKeyCheck;
    try {
      check = await this.verifier.check(req.headers['x-api-key']);
    } catch (e) {
      this.outcome('error');
      this.logger.event('warn', 'mica key check undecidable', { requestId: req.requestId, err: (e as Error).message });
      throw new AppException('AUTH_ERROR');
    }
    if (check.outcome === 'no_key') {
      this.outcome('missing');
      throw new AppException('UNAUTHORIZED', 'A MiCA API key (trusset_mica_…) is required in the X-API-Key header.', undefined, { 'WWW-Authenticate': API_KEY_CHALLENGE });
    }
    if (check.outcome === 'invalid') {
      this.outcome('failed');
      throw new AppException('INVALID_KEY');
    }

    req.principal = { kind: 'mica_key', keyId: check.keyId, developerId: check.developerId };
    try {
      await this.spend(check.keyId, res);
    } catch (e) {
      this.outcome('rate_limited');
      if (e instanceof AppException && e.code === 'RATE_LIMIT_EXCEEDED') this.usage.refuse('mica_key', check.keyId, 'RATE_LIMIT_EXCEEDED');
      throw e;
    }
    countWhenAdmitted(this.usage, 'mica_key', check.keyId, res);
    this.outcome('passed');
  }

  private outcome(outcome: string): void {
    this.metrics.authDecisions.inc({ guard: 'mica_key', outcome });
  }

  /** A request refused by the minute limit does not also eat into the day's allowance. */
  private async spend(keyId: string, res: Response): Promise<void> {
    const minute = await this.limiter.consume(this.minute, keyId);
    const day = minute?.exceeded ? await this.limiter.check(this.day, keyId) : await this.limiter.consume(this.day, keyId);
    const headers = { ...(minute ? rateLimitHeaders(minute, '-Minute') : {}), ...(day ? rateLimitHeaders(day, '-Day') : {}) };
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    const exceeded = [minute, day].filter((s): s is LimitState => !!s?.exceeded);
    if (exceeded.length === 0) return;
    const longest = exceeded.reduce((a, b) => (b.resetSeconds > a.resetSeconds ? b : a));
    throw rateLimitExceeded(longest, headers);
  }
}
