import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import type { Response } from 'express';
import { AppException } from '../common/errors/app.exception';
import { API_KEY_CHALLENGE } from '../common/http/www-authenticate';
import { JsonLogger } from '../common/logging/json-logger';
import { LIMIT_RULES, LimitRules } from '../rate-limit/limit-rules';
import { RateLimiterService } from '../rate-limit/rate-limiter.service';
import { MetricsService } from '../metrics/metrics.service';
import { UsageTracker } from '../usage/usage.tracker';
import { GuardSkeleton } from './guard.skeleton';
import { MicaKeyVerifier } from './mica-key.verifier';
import { AuthenticatedRequest } from './principal';

/**
 * `X-API-Key: trusset_mica_…` on the MiCA data routes. No key or another prefix is UNAUTHORIZED;
 * malformed, unknown or revoked is INVALID_KEY; an undecidable check is AUTH_ERROR, never a pass.
 * An admitted key then spends its per-minute and per-UTC-day data allowance.
 */
@Injectable()
export class MicaKeyGuard implements CanActivate {
  private readonly steps: GuardSkeleton<never>;

  constructor(
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    private readonly verifier: MicaKeyVerifier,
    private readonly limiter: RateLimiterService,
    usage: UsageTracker,
    metrics: MetricsService,
    logger: JsonLogger,
  ) {
    this.steps = new GuardSkeleton(
      { guard: 'mica_key', what: 'mica key', outcomes: [], usage: { tracker: usage, kind: 'mica_key' } },
      metrics,
      logger,
    );
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
    const check = await this.steps.check(this.verifier.check(req.headers['x-api-key']), req.requestId);
    if (check.outcome === 'no_key') {
      this.steps.outcome('missing');
      throw new AppException('UNAUTHORIZED', 'A MiCA API key (trusset_mica_…) is required in the X-API-Key header.', undefined, {
        'WWW-Authenticate': API_KEY_CHALLENGE,
      });
    }
    if (check.outcome === 'invalid') {
      this.steps.outcome('failed');
      throw new AppException('INVALID_KEY');
    }

    req.principal = { kind: 'mica_key', keyId: check.keyId, developerId: check.developerId };
    // A request refused by the minute limit does not also eat into the day's allowance.
    const minute = await this.limiter.consume(this.rules.micaMinute, check.keyId);
    const day = minute?.exceeded
      ? await this.limiter.check(this.rules.micaDay, check.keyId)
      : await this.limiter.consume(this.rules.micaDay, check.keyId);
    this.steps.limit(check.keyId, res, [minute, '-Minute'], [day, '-Day']);
    this.steps.countAdmitted(check.keyId, res);
    this.steps.outcome('passed');
  }
}
