import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Response } from 'express';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { sha256 } from '../common/crypto/secrets';
import { JsonLogger } from '../common/logging/json-logger';
import { LIMIT_RULES, LimitRules } from '../rate-limit/limit-rules';
import { RateLimiterService } from '../rate-limit/rate-limiter.service';
import { withDeadline } from '../database/database-errors';
import { MetricsService } from '../metrics/metrics.service';
import { MANAGEMENT_TOKEN_FORMAT } from '../domain/mica-credentials';
import { parseBearer } from '../common/http/bearer';
import { BRAKE } from './brake.decorator';
import { readablePath } from '../common/logging/redact';
import { GuardSkeleton } from './guard.skeleton';
import { FailedAuthLimiter } from './failed-auth.limiter';
import { actorOf, AuthenticatedRequest } from './principal';

/** The management token's one lookup: an index scan on the unique digest, of an account not suspended or erased. Uncached: a token manages keys, it does not gate traffic. */
export const MANAGEMENT_TOKEN_LOOKUP = `SELECT id FROM mica_developers WHERE management_token_digest = $1 AND status = 'ACTIVE'`;

/**
 * `Authorization: Bearer <managementToken>` of a MiCA developer. No or another scheme is
 * UNAUTHORIZED; anything else that is not a current token (wrong, rotated away, an API key, the admin
 * token) is INVALID_TOKEN. Failures are audited and count against the strict per-address limiter; an
 * authenticated developer then spends the key-management allowance.
 */
@Injectable()
export class ManagementTokenGuard implements CanActivate {
  private readonly steps: GuardSkeleton<never>;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(LIMIT_RULES) private readonly rules: LimitRules,
    private readonly audit: AuditService,
    private readonly failures: FailedAuthLimiter,
    private readonly limiter: RateLimiterService,
    private readonly logger: JsonLogger,
    private readonly reflector: Reflector,
    metrics: MetricsService,
  ) {
    this.steps = new GuardSkeleton({ guard: 'management_token', what: 'management token', outcomes: [] }, metrics, logger);
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = parseBearer(req.headers.authorization);
    const developerId = bearer.ok ? await this.steps.check(this.developerOf(bearer.token), req.requestId) : undefined;
    if (!bearer.ok || !developerId) return this.fail(req, bearer.ok ? 'INVALID_TOKEN' : 'UNAUTHORIZED');

    req.principal = { kind: 'developer', developerId, tokenDigest: sha256(bearer.token) };
    // A leaked token must not be able to spend the allowance its owner needs to revoke keys or replace it.
    if (!this.reflector.get<boolean | undefined>(BRAKE, context.getHandler())) {
      const res = context.switchToHttp().getResponse<Response>();
      this.steps.limit(developerId, res, [await this.limiter.consume(this.rules.micaKeyManagement, developerId), '']);
    }
    this.steps.outcome('passed');
    return true;
  }

  /** The developer whose current management token this is; rejects when the database cannot say within AUTH_DECISION_TIMEOUT_MS. */
  private async developerOf(token: string): Promise<string | undefined> {
    if (!MANAGEMENT_TOKEN_FORMAT.test(token)) return undefined;
    const rows: Array<{ id: string }> = await withDeadline(
      this.dataSource.query(MANAGEMENT_TOKEN_LOOKUP, [sha256(token)]),
      this.config.auth.decisionTimeoutMs,
      'management token check',
    );
    return rows[0]?.id;
  }

  private async fail(req: AuthenticatedRequest, code: 'INVALID_TOKEN' | 'UNAUTHORIZED'): Promise<never> {
    this.steps.outcome(code === 'UNAUTHORIZED' ? 'missing' : 'failed');
    const limited = await this.failures.countFailure(req.ip, 'mica.management_auth_failed');
    if (limited) throw limited;
    await this.audit
      .record(
        { action: 'mica.management_auth_failed', details: { reason: code, method: req.method, path: readablePath(req.path) } },
        actorOf(req),
      )
      .catch((e: Error) => this.logger.event('warn', 'could not record failed management-token attempt', { err: e.message }));
    throw new AppException(code);
  }
}
