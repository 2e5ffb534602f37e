import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { LimitRule, MINUTE_MS, RateLimiterService, rateLimitExceeded, rateLimitHeaders } from '../common/rate-limit/rate-limiter.service';
import { isServiceName, ServiceName } from '../instances/services';
import { MetricsService } from '../metrics/metrics.service';
import { RefusalReason, UsageTracker } from '../usage/usage.tracker';
import { countWhenAdmitted } from '../usage/count-admitted';
import { checkVerifyQuery } from './verify-query';
import { allowedBy } from '../common/net/cidr';
import { InstanceKeyCheck, InstanceKeyVerifier } from './instance-key.verifier';
import { AuthenticatedRequest } from './principal';

export const REQUIRED_SERVICE = 'trusset:required-service';

/** A key's own limit never lifts it above the deployment's (which may have been lowered since it was set); 0 = the deployment has none. */
export function ownLimit(own: number, deployment: number): number {
  return deployment > 0 ? Math.min(own, deployment) : own;
}
/** Marks a route whose required service is named by the `service` query parameter (the verify endpoint). */
export const SERVICE_FROM_QUERY = Symbol('service-from-query');
export type RequiredService = ServiceName | typeof SERVICE_FROM_QUERY;

/**
 * SPEC §3 and §12, in order: no or empty X-API-Key → AUTH_REQUIRED; malformed, unknown, revoked,
 * expired, paused or archived → AUTH_FAILED with one identical body; the client address outside the
 * key's allowedCidrs → IP_NOT_ALLOWED; the route's service off for the instance or outside the key's
 * subset → SERVICE_NOT_ENABLED; then the per-key limit (the key's own, else the deployment's);
 * undecidable → AUTH_ERROR (never a pass, never a 401). A refused address spends no allowance. An
 * admitted key is counted for lastUsedAt/requestCount, a refused one by reason, without a database write.
 */
@Injectable()
export class InstanceAuthGuard implements CanActivate {
  private readonly rule: LimitRule;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly reflector: Reflector,
    private readonly verifier: InstanceKeyVerifier,
    private readonly limiter: RateLimiterService,
    private readonly usage: UsageTracker,
    private readonly metrics: MetricsService,
    private readonly logger: JsonLogger,
  ) {
    this.rule = { name: 'instance-key', limit: config.rateLimits.perKeyPerMinute, windowMs: MINUTE_MS };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthenticatedRequest>();
    const required = this.reflector.getAllAndOverride<RequiredService | undefined>(REQUIRED_SERVICE, [context.getHandler(), context.getClass()]);
    const fromQuery = required === SERVICE_FROM_QUERY;
    await this.authenticate(req, http.getResponse<Response>(), fromQuery ? req.query.service : required, fromQuery ? () => checkVerifyQuery(req.query) : undefined);
    return true;
  }

  /**
   * The whole check, for the guard and for the verify route's handler: sets `req.principal` and
   * the rate-limit headers, or throws the SPEC §3 answer. `checkInput` runs once the key is known to
   * be valid (a bad key is 401 first) and before the service check and the per-key limit, so a
   * refused query spends nothing.
   */
  async authenticate(req: AuthenticatedRequest, res: Response, service: unknown, checkInput?: () => void): Promise<void> {
    let check: InstanceKeyCheck;
    try {
      check = await this.verifier.check(req.headers['x-api-key']);
    } catch (e) {
      this.outcome('error');
      this.logger.event('warn', 'instance key check undecidable', { requestId: req.requestId, err: (e as Error).message });
      throw new AppException('AUTH_ERROR');
    }
    if (check.outcome === 'missing') {
      this.outcome('missing');
      throw new AppException('AUTH_REQUIRED');
    }
    if (check.outcome === 'failed') {
      this.outcome('failed');
      throw new AppException('AUTH_FAILED');
    }
    const identity = check.identity;
    checkInput?.();
    // req.ip is the socket's address, or under TRUST_PROXY the client address the trusted proxy forwarded.
    if (identity.allowedCidrs !== null && !allowedBy(identity.allowedCidrs, req.ip)) {
      throw this.refuse(identity.keyId, 'IP_NOT_ALLOWED', 'ip_not_allowed', new AppException('IP_NOT_ALLOWED'));
    }
    if (service !== undefined && service !== '' && !(isServiceName(service) && identity.services.includes(service))) {
      throw this.refuse(identity.keyId, 'SERVICE_NOT_ENABLED', 'service_not_enabled', new AppException('SERVICE_NOT_ENABLED'));
    }
    const rule = identity.rateLimitPerMinute === null ? this.rule : { ...this.rule, limit: ownLimit(identity.rateLimitPerMinute, this.rule.limit) };
    const state = await this.limiter.consume(rule, identity.keyId);
    if (state) {
      const headers = rateLimitHeaders(state);
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      if (state.exceeded) throw this.refuse(identity.keyId, 'RATE_LIMIT_EXCEEDED', 'rate_limited', rateLimitExceeded(state, headers));
    }
    this.outcome('passed');
    countWhenAdmitted(this.usage, 'instance_key', identity.keyId, res);
    req.principal = { kind: 'instance_key', ...identity };
  }

  private refuse(keyId: string, reason: RefusalReason, outcome: string, error: AppException): AppException {
    this.usage.refuse('instance_key', keyId, reason);
    this.outcome(outcome);
    return error;
  }

  private outcome(outcome: string): void {
    this.metrics.authDecisions.inc({ guard: 'instance_key', outcome });
  }
}
