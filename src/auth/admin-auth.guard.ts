import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Response } from 'express';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { secretsEqual } from '../common/crypto/secrets';
import { MetricsService } from '../metrics/metrics.service';
import { OperatorTokenVerifier } from './operator-token.verifier';
import { UsageTracker } from '../usage/usage.tracker';
import { ADMIN_SCOPE_METADATA, AdminScopeDeclaration } from './admin-scope';
import { parseBearer } from '../common/http/bearer';
import { GuardSkeleton } from './guard.skeleton';
import { readablePath } from '../common/logging/redact';
import { FailedAuthLimiter } from './failed-auth.limiter';
import { actorOf, AuthenticatedRequest, Principal } from './principal';

type OperatorPrincipal = Extract<Principal, { kind: 'operator' }>;

/**
 * `Authorization: Bearer <ADMIN_TOKEN | operator token>` (SPEC §4, §20). No or another scheme is
 * UNAUTHORIZED; a wrong, revoked or expired token INVALID_TOKEN (counted against the strict
 * per-address limiter and audited); an operator token that cannot be checked in time AUTH_ERROR,
 * never a pass. ADMIN_TOKEN is compared first and needs no database, so the bootstrap credential
 * works while the database is down.
 *
 * After authentication an operator token must hold the scope the route declares with
 * `@AdminScope` (403 INSUFFICIENT_SCOPE naming it; a route without a declaration is ADMIN_TOKEN's
 * alone), and a token restricted to instances sees only those: the `instanceRef` of the path must be
 * one of them, else 404 with the body of an unknown instance.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  private readonly steps: GuardSkeleton<'insufficient_scope' | 'other_instance'>;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly failures: FailedAuthLimiter,
    private readonly logger: JsonLogger,
    private readonly verifier: OperatorTokenVerifier,
    private readonly reflector: Reflector,
    usage: UsageTracker,
    metrics: MetricsService,
  ) {
    this.steps = new GuardSkeleton(
      {
        guard: 'admin',
        what: 'operator token',
        outcomes: ['insufficient_scope', 'other_instance'],
        usage: { tracker: usage, kind: 'operator_token' },
      },
      metrics,
      logger,
    );
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = parseBearer(req.headers.authorization);
    if (!bearer.ok) return this.fail(req, 'UNAUTHORIZED');
    if (secretsEqual(bearer.token, this.config.auth.adminToken)) {
      req.principal = { kind: 'admin' };
      return true;
    }

    const check = await this.steps.check(this.verifier.check(bearer.token), req.requestId);
    if (check.outcome !== 'valid') return this.fail(req, 'INVALID_TOKEN', check.outcome === 'invalid' ? check.tokenId : undefined);

    const principal: OperatorPrincipal = { kind: 'operator', ...check.identity };
    req.principal = principal;
    await this.authorize(context, req, principal);
    this.steps.countAdmitted(principal.tokenId, context.switchToHttp().getResponse<Response>());
    this.steps.outcome('passed');
    return true;
  }

  private async authorize(context: ExecutionContext, req: AuthenticatedRequest, p: OperatorPrincipal): Promise<void> {
    const declared = this.reflector.get<AdminScopeDeclaration | undefined>(ADMIN_SCOPE_METADATA, context.getHandler());
    let refusal: string | undefined;
    if (!declared) refusal = 'This operation declares no scope: only ADMIN_TOKEN may call it.';
    else if (!p.scopes.includes(declared.scope)) refusal = `This operation needs the scope ${declared.scope}.`;
    else if (declared.allInstances && p.instanceRefs)
      refusal = `This operation needs the scope ${declared.scope} on a token not restricted to instances.`;
    if (refusal) {
      this.steps.outcome('insufficient_scope');
      await this.audit
        .record(
          { action: 'admin.scope_denied', details: { requiredScope: declared?.scope ?? null, method: req.method, path: req.path } },
          actorOf(req),
        )
        .catch((e: Error) => this.logger.event('warn', 'could not record a scope denial', { err: e.message }));
      throw new AppException('INSUFFICIENT_SCOPE', refusal, declared ? { scope: [declared.scope] } : undefined);
    }
    const ref = (req.params as Record<string, unknown> | undefined)?.instanceRef;
    if (p.instanceRefs && typeof ref === 'string' && !p.instanceRefs.includes(ref)) {
      this.steps.outcome('other_instance');
      // The same answer as an instance that does not exist: a restricted token learns nothing of the others.
      throw new AppException('NOT_FOUND', 'Instance not found.');
    }
  }

  private async fail(req: AuthenticatedRequest, code: 'UNAUTHORIZED' | 'INVALID_TOKEN', operatorTokenId?: string): Promise<never> {
    this.steps.outcome(code === 'UNAUTHORIZED' ? 'missing' : 'failed');
    const limited = await this.failures.countFailure(req.ip, 'admin.auth_failed');
    if (limited) throw limited;
    const details: Record<string, unknown> = { reason: code, method: req.method, path: readablePath(req.path) };
    // A revoked or expired operator token presented again is worth knowing by name: it may be in the wrong hands.
    if (operatorTokenId) details.operatorTokenId = operatorTokenId;
    await this.audit
      .record({ action: 'admin.auth_failed', details }, actorOf(req))
      .catch((e: Error) => this.logger.event('warn', 'could not record failed admin attempt', { err: e.message }));
    throw new AppException(code);
  }
}
