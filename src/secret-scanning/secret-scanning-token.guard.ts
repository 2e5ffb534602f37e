import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { secretsEqual } from '../common/crypto/secrets';
import { parseBearer } from '../common/http/bearer';
import { FailedAuthLimiter } from '../auth/failed-auth.limiter';
import { actorOf, AuthenticatedRequest } from '../auth/principal';

/**
 * `Authorization: Bearer <SECRET_SCANNING_TOKEN>` of the operator's own scanner; without the variable
 * set nothing passes. Failures are handled like the admin token's: audited, counted per address.
 */
@Injectable()
export class SecretScanningTokenGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly failures: FailedAuthLimiter,
    private readonly logger: JsonLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = parseBearer(req.headers.authorization);
    const expected = this.config.secretScanning.token;
    if (bearer.ok && expected !== undefined && secretsEqual(bearer.token, expected)) return true;
    const code = bearer.ok ? 'INVALID_TOKEN' : 'UNAUTHORIZED';
    const limited = await this.failures.countFailure(req.ip, 'secret_scanning.auth_failed');
    if (limited) throw limited;
    await this.audit
      .record({ action: 'secret_scanning.auth_failed', details: { reason: code, method: req.method, path: req.path } }, actorOf(req))
      .catch((e: Error) => this.logger.event('warn', 'could not record failed secret-scanning attempt', { err: e.message }));
    throw new AppException(code);
  }
}
