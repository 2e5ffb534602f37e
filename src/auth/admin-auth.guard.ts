import { CanActivate, ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AuditService } from '../audit/audit.service';
import { AppException } from '../common/errors/app.exception';
import { JsonLogger } from '../common/logging/json-logger';
import { secretsEqual } from '../common/crypto/secrets';
import { parseBearer } from './bearer';
import { readablePath } from '../common/logging/redact';
import { FailedAuthLimiter } from './failed-auth.limiter';
import { actorOf, AuthenticatedRequest } from './principal';

/** `Authorization: Bearer <ADMIN_TOKEN>`; no or another scheme is UNAUTHORIZED, a wrong token INVALID_TOKEN. */
@Injectable()
export class AdminAuthGuard implements CanActivate {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly failures: FailedAuthLimiter,
    private readonly logger: JsonLogger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const bearer = parseBearer(req.headers.authorization);
    if (bearer.ok && secretsEqual(bearer.token, this.config.auth.adminToken)) {
      req.principal = { kind: 'admin' };
      return true;
    }
    const code = bearer.ok ? 'INVALID_TOKEN' : 'UNAUTHORIZED';
    const limited = await this.failures.countFailure(req.ip, 'admin.auth_failed');
    if (limited) throw limited;
    await this.audit
      .record({ action: 'admin.auth_failed', details: { reason: code, method: req.method, path: readablePath(req.path) } }, actorOf(req))
      .catch((e: Error) => this.logger.event('warn', 'could not record failed admin attempt', { err: e.message }));
    throw new AppException(code);
  }
}
