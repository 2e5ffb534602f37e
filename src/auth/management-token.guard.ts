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
import { LimitRule, MINUTE_MS, RateLimiterService, rateLimitExceeded, rateLimitHeaders } from '../rate-limit/rate-limiter.service';
import { withDeadline } from '../database/database-errors';
import { MANAGEMENT_TOKEN_FORMAT } from '../domain/mica-credentials';
import { parseBearer } from '../common/http/bearer';
import { BRAKE } from './brake.decorator';
import { readablePath } from '../common/logging/redact';
import { FailedAuthLimiter } from './failed-auth.limiter';
import { actorOf, AuthenticatedRequest } from './principal';

/**
 * `Authorization: Bearer <managementToken>` of a MiCA developer. No or another scheme is
 * UNAUTHORIZED; anything else that is not a current token (wrong, rotated away, an API key, the admin
 * token) is INVALID_TOKEN. Failures are audited and count against the strict per-address limiter; an
 * authenticated developer then spends the key-management allowance.
 */
@Injectable()
export class ManagementTokenGuard implements CanActivate {
  private readonly rule: LimitRule;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly failures: FailedAuthLimiter,
    private readonly limiter: RateLimiterService,
    private readonly logger: JsonLogger,
    private readonly reflector: Reflector,
  ) {
    this.rule = { name: 'mica-key-management', limit: config.rateLimits.keyManagementPerMinute, windowMs: MINUTE_MS };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = parseBearer(req.headers.authorization);
    const developerId = bearer.ok ? await this.developerOf(bearer.token, req) : undefined;
    if (!bearer.ok || !developerId) return this.fail(req, bearer.ok ? 'INVALID_TOKEN' : 'UNAUTHORIZED');

    req.principal = { kind: 'developer', developerId, tokenDigest: sha256(bearer.token) };
    // A leaked token must not be able to spend the allowance its owner needs to revoke keys or replace it.
    if (this.reflector.get<boolean | undefined>(BRAKE, context.getHandler())) return true;
    const state = await this.limiter.consume(this.rule, developerId);
    if (state) {
      const headers = rateLimitHeaders(state);
      for (const [name, value] of Object.entries(headers)) context.switchToHttp().getResponse<Response>().setHeader(name, value);
      if (state.exceeded) throw rateLimitExceeded(state, headers);
    }
    return true;
  }

  private async developerOf(token: string, req: AuthenticatedRequest): Promise<string | undefined> {
    if (!MANAGEMENT_TOKEN_FORMAT.test(token)) return undefined;
    try {
      const rows: Array<{ id: string }> = await withDeadline(
        this.dataSource.query(`SELECT id FROM mica_developers WHERE management_token_digest = $1 AND status = 'ACTIVE'`, [sha256(token)]),
        this.config.auth.decisionTimeoutMs,
        'management token check',
      );
      return rows[0]?.id;
    } catch (e) {
      this.logger.event('warn', 'management token check undecidable', { requestId: req.requestId, err: (e as Error).message });
      throw new AppException('AUTH_ERROR');
    }
  }

  private async fail(req: AuthenticatedRequest, code: 'INVALID_TOKEN' | 'UNAUTHORIZED'): Promise<never> {
    const limited = await this.failures.countFailure(req.ip, 'mica.management_auth_failed');
    if (limited) throw limited;
    await this.audit
      .record({ action: 'mica.management_auth_failed', details: { reason: code, method: req.method, path: readablePath(req.path) } }, actorOf(req))
      .catch((e: Error) => this.logger.event('warn', 'could not record failed management-token attempt', { err: e.message }));
    throw new AppException(code);
  }
}
