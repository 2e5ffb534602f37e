import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { LimitRule, LimitState, MINUTE_MS, RateLimiterService, rateLimitExceeded, rateLimitHeaders } from '../common/rate-limit/rate-limiter.service';
import { isServiceName, ServiceName } from '../instances/services';
import { MetricsService } from '../metrics/metrics.service';
import { UsageTracker } from '../usage/usage.tracker';
import { InstanceKeyCheck, InstanceKeyIdentity, InstanceKeyVerifier } from './instance-key.verifier';
import { AuthenticatedRequest } from './principal';

export const REQUIRED_SERVICE = 'trusset:required-service';
/** Marks a route whose required service is named by the `service` query parameter (the verify endpoint). */
export const SERVICE_FROM_QUERY = Symbol('service-from-query');
export type RequiredService = ServiceName | typeof SERVICE_FROM_QUERY;

export type InstanceAuthDecision =
  | { ok: true; identity: InstanceKeyIdentity; limit?: LimitState }
  | { ok: false; code: 'AUTH_REQUIRED' | 'AUTH_FAILED' | 'SERVICE_NOT_ENABLED' | 'AUTH_ERROR' | 'RATE_LIMIT_EXCEEDED'; limit?: LimitState };

const OUTCOMES = ['missing', 'failed', 'service_not_enabled', 'rate_limited', 'passed', 'error'] as const;
const AUTH_ERROR_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'AUTH_ERROR' });
const AUTH_REQUIRED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'AUTH_REQUIRED' });
const AUTH_FAILED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'AUTH_FAILED' });
const SERVICE_NOT_ENABLED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'SERVICE_NOT_ENABLED' });

/**
 * SPEC §3, in order: no or empty X-API-Key → AUTH_REQUIRED; malformed, unknown, revoked, expired,
 * paused or archived → AUTH_FAILED with one identical body; valid but the route's service is off →
 * SERVICE_NOT_ENABLED; undecidable → AUTH_ERROR (never a pass, never a 401). An admitted key spends
 * its per-key allowance and is counted for lastUsedAt without a database write.
 */
@Injectable()
export class InstanceAuthGuard implements CanActivate {
  private readonly rule: LimitRule;
  // One labelled child per outcome, resolved once: a label lookup per request costs more than the check.
  private readonly outcomes: Record<(typeof OUTCOMES)[number], { inc(): void }>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
    private readonly verifier: InstanceKeyVerifier,
    private readonly limiter: RateLimiterService,
    private readonly usage: UsageTracker,
    metrics: MetricsService,
    private readonly logger: JsonLogger,
  ) {
    this.rule = { name: 'instance-key', limit: config.rateLimits.perKeyPerMinute, windowMs: MINUTE_MS, batch: config.rateLimits.perKeyBatch };
    this.outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, metrics.authDecisions.labels('instance_key', o)])) as InstanceAuthGuard['outcomes'];
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthenticatedRequest>();
    const required = this.reflector.getAllAndOverride<RequiredService | undefined>(REQUIRED_SERVICE, [context.getHandler(), context.getClass()]);
    await this.authenticate(req, http.getResponse<Response>(), required === SERVICE_FROM_QUERY ? req.query.service : required);
    return true;
  }

  /**
   * The whole check for the Nest guard (and any route of a Nest app importing AuthModule): sets
   * `req.principal` and the rate-limit headers, or throws the SPEC §3 answer.
   */
  async authenticate(req: AuthenticatedRequest, res: Response, service: unknown): Promise<void> {
    const decision = await this.decide(req.headers['x-api-key'], service, req.requestId);
    if (decision.limit) for (const [name, value] of Object.entries(rateLimitHeaders(decision.limit))) res.setHeader(name, value);
    if (decision.ok) {
      req.principal = { kind: 'instance_key', ...decision.identity };
      return;
    }
    if (decision.code === 'RATE_LIMIT_EXCEEDED') throw rateLimitExceeded(decision.limit!);
    throw new AppException(decision.code);
  }

  /**
   * THE instance-key decision, the one place its rules live: the Nest guard (through authenticate)
   * and the verify route's raw lane (src/hot-path) both call it. It answers a value rather than
   * throwing, since a refused key is the common case under a flood and an exception (with its stack)
   * costs more than the check. Rules that narrow a key (client address, own limit) belong here.
   */
  async decide(presented: unknown, service: unknown, requestId?: string): Promise<InstanceAuthDecision> {
    let check: InstanceKeyCheck;
    try {
      check = await this.verifier.check(presented);
    } catch (e) {
      this.outcomes.error.inc();
      this.logger.event('warn', 'instance key check undecidable', { requestId, err: (e as Error).message });
      return AUTH_ERROR_DECISION;
    }
    if (check.outcome === 'missing') {
      this.outcomes.missing.inc();
      return AUTH_REQUIRED_DECISION;
    }
    if (check.outcome === 'failed') {
      this.outcomes.failed.inc();
      return AUTH_FAILED_DECISION;
    }
    const identity = check.identity;
    this.usage.record('instance_key', identity.keyId);
    if (service !== undefined && service !== '' && !(isServiceName(service) && identity.services.includes(service))) {
      this.outcomes.service_not_enabled.inc();
      return SERVICE_NOT_ENABLED_DECISION;
    }
    const limit = await this.limiter.consume(this.rule, identity.keyId);
    if (limit?.exceeded) {
      this.outcomes.rate_limited.inc();
      return { ok: false, code: 'RATE_LIMIT_EXCEEDED', limit };
    }
    this.outcomes.passed.inc();
    return { ok: true, identity, limit };
  }

}
