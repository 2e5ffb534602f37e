import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { AppException, ErrorDetails } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { LIMIT_RULES, LimitRules } from '../rate-limit/limit-rules';
import { enforceLimits, LimitRule, LimitState, RateLimiterService } from '../rate-limit/rate-limiter.service';
import { allowedBy } from '../common/net/cidr';
import { isServiceName, ServiceName } from '../domain/platform-services';
import { MetricsService } from '../metrics/metrics.service';
import { UsageTracker } from '../usage/usage.tracker';
import { GuardSkeleton } from './guard.skeleton';
import { InstanceKeyCheck, InstanceKeyIdentity, InstanceKeyVerifier } from './instance-key.verifier';
import { AuthenticatedRequest } from './principal';
import { verifyQueryProblem } from './verify-query';

export const REQUIRED_SERVICE = 'trusset:required-service';
/** Marks a route whose required service is named by the `service` query parameter (the verify endpoint). */
export const SERVICE_FROM_QUERY = Symbol('service-from-query');
export type RequiredService = ServiceName | typeof SERVICE_FROM_QUERY;

/** A key's own limit never lifts it above the deployment's (which may have been lowered since it was set); 0 = the deployment has none. */
export function ownLimit(own: number, deployment: number): number {
  return deployment > 0 ? Math.min(own, deployment) : own;
}

export type InstanceAuthRefusal =
  'AUTH_REQUIRED' | 'AUTH_FAILED' | 'IP_NOT_ALLOWED' | 'SERVICE_NOT_ENABLED' | 'AUTH_ERROR' | 'RATE_LIMIT_EXCEEDED' | 'VALIDATION_ERROR';

export type InstanceAuthDecision =
  | { ok: true; identity: InstanceKeyIdentity; limit?: LimitState }
  | { ok: false; code: InstanceAuthRefusal; limit?: LimitState; details?: ErrorDetails };

/** What a request brings to the decision besides its key. */
export interface InstanceAuthRequest {
  /**
   * The client's address: the socket's, or under TRUST_PROXY the one the trusted proxy forwarded.
   * Asked only for a key with allowedCidrs: reading the forwarded chain costs more than the rest of
   * a cached check.
   */
  clientIp: () => string | undefined;
  requestId?: string;
  /** The request's own input fault (verify's query): 400 once the key is known good, spending nothing. */
  inputProblem?: ErrorDetails;
}

const OUTCOMES = ['invalid_input', 'ip_not_allowed', 'service_not_enabled'] as const;
const AUTH_ERROR_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'AUTH_ERROR' });
const AUTH_REQUIRED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'AUTH_REQUIRED' });
const AUTH_FAILED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'AUTH_FAILED' });
const IP_NOT_ALLOWED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'IP_NOT_ALLOWED' });
const SERVICE_NOT_ENABLED_DECISION: InstanceAuthDecision = Object.freeze({ ok: false, code: 'SERVICE_NOT_ENABLED' });

/**
 * SPEC §3 and §12, in order: no or empty X-API-Key → AUTH_REQUIRED; malformed, unknown, revoked,
 * expired, paused or archived → AUTH_FAILED with one identical body; the request's own input fault →
 * VALIDATION_ERROR; the client address outside the key's allowedCidrs → IP_NOT_ALLOWED; the route's
 * service off for the instance or outside the key's subset → SERVICE_NOT_ENABLED; the per-key limit
 * (the key's own, at most the deployment's) spent → RATE_LIMIT_EXCEEDED; undecidable → AUTH_ERROR
 * (never a pass, never a 401). A refusal after the key is known spends no allowance of a later step.
 */
@Injectable()
export class InstanceAuthGuard implements CanActivate {
  private readonly rule: LimitRule;
  private readonly steps: GuardSkeleton<(typeof OUTCOMES)[number]>;

  constructor(
    @Inject(LIMIT_RULES) rules: LimitRules,
    private readonly reflector: Reflector,
    private readonly verifier: InstanceKeyVerifier,
    private readonly limiter: RateLimiterService,
    usage: UsageTracker,
    metrics: MetricsService,
    logger: JsonLogger,
  ) {
    this.rule = rules.perKey;
    this.steps = new GuardSkeleton(
      { guard: 'instance_key', what: 'instance key', outcomes: OUTCOMES, usage: { tracker: usage, kind: 'instance_key' } },
      metrics,
      logger,
    );
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthenticatedRequest>();
    const required = this.reflector.getAllAndOverride<RequiredService | undefined>(REQUIRED_SERVICE, [
      context.getHandler(),
      context.getClass(),
    ]);
    const fromQuery = required === SERVICE_FROM_QUERY;
    await this.authenticate(
      req,
      http.getResponse<Response>(),
      fromQuery ? req.query.service : required,
      fromQuery ? verifyQueryProblem(req.query) : undefined,
    );
    return true;
  }

  /**
   * The whole check for the Nest guard (and any route of a Nest app importing AuthModule): sets
   * `req.principal` and the rate-limit headers, or throws the answer of `decide`. The key's use is
   * counted once the answer is known to be an admitted one (a body the validation pipe refuses later
   * is not use).
   */
  async authenticate(req: AuthenticatedRequest, res: Response, service: unknown, inputProblem?: ErrorDetails): Promise<void> {
    const decision = await this.decide(req.headers['x-api-key'], service, {
      clientIp: () => req.ip,
      requestId: req.requestId,
      inputProblem,
    });
    // decide has counted the outcome and any refusal already; this only writes the answer.
    enforceLimits(res, [decision.limit, '']);
    if (!decision.ok) throw new AppException(decision.code, undefined, decision.details);
    this.steps.countAdmitted(decision.identity.keyId, res);
    req.principal = { kind: 'instance_key', ...decision.identity };
  }

  /**
   * THE instance-key decision, the one place its rules live: the Nest guard (through authenticate)
   * and the verify route's raw lane (src/hot-path) both call it. It answers a value rather than
   * throwing, since a refused key is the common case under a flood and an exception (with its stack)
   * costs more than the check. It counts no admitted use itself: the caller does, once its answer
   * is an admitted one (`admitted`).
   */
  async decide(presented: unknown, service: unknown, request: InstanceAuthRequest): Promise<InstanceAuthDecision> {
    let check: InstanceKeyCheck;
    try {
      check = await this.verifier.check(presented);
    } catch (e) {
      this.steps.undecidable(e, request.requestId);
      return AUTH_ERROR_DECISION;
    }
    if (check.outcome === 'missing') {
      this.steps.outcome('missing');
      return AUTH_REQUIRED_DECISION;
    }
    if (check.outcome === 'failed') {
      this.steps.outcome('failed');
      return AUTH_FAILED_DECISION;
    }
    const identity = check.identity;
    if (request.inputProblem) {
      this.steps.outcome('invalid_input');
      return { ok: false, code: 'VALIDATION_ERROR', details: request.inputProblem };
    }
    if (identity.allowedCidrs !== null && !allowedBy(identity.allowedCidrs, request.clientIp())) {
      this.steps.refuse(identity.keyId, 'IP_NOT_ALLOWED', 'ip_not_allowed');
      return IP_NOT_ALLOWED_DECISION;
    }
    if (service !== undefined && !(isServiceName(service) && identity.services.includes(service))) {
      this.steps.refuse(identity.keyId, 'SERVICE_NOT_ENABLED', 'service_not_enabled');
      return SERVICE_NOT_ENABLED_DECISION;
    }
    const rule =
      identity.rateLimitPerMinute === null ? this.rule : { ...this.rule, limit: ownLimit(identity.rateLimitPerMinute, this.rule.limit) };
    const limit = await this.limiter.consume(rule, identity.keyId);
    if (limit?.exceeded) {
      this.steps.refuse(identity.keyId, 'RATE_LIMIT_EXCEEDED', 'rate_limited');
      return { ok: false, code: 'RATE_LIMIT_EXCEEDED', limit };
    }
    this.steps.outcome('passed');
    return { ok: true, identity, limit };
  }

  /** Counts an admitted request of the key (lastUsedAt, requestCount, the hour's bucket), for a caller whose answer is final. */
  admitted(keyId: string): void {
    this.steps.recordAdmitted(keyId);
  }
}
