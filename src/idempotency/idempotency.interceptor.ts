import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { catchError, from, mergeMap, Observable, of, switchMap } from 'rxjs';
import type { AuthenticatedRequest } from '../auth/principal';
import { AppException } from '../common/errors/app.exception';
import { formatIp, parseIp } from '../common/net/cidr';
import { JsonLogger } from '../common/logging/json-logger';
import { IDEMPOTENCY_KEY_FORMAT } from './idempotency.crypto';
import { IdempotencyService } from './idempotency.service';

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/**
 * Whose idempotency keys these are: answers are never shared between principals. A public route
 * (registration) has no principal; there the client address stands in, so a guessed key alone
 * replays nothing to someone elsewhere.
 */
export function idempotencyScope(req: AuthenticatedRequest): string {
  const p = req.principal;
  switch (p?.kind) {
    case 'admin':
      return 'admin';
    case 'operator':
      return `operator:${p.tokenId}`;
    case 'instance_key':
      return `instance_key:${p.keyId}`;
    case 'developer':
      return `developer:${p.developerId}`;
    case 'mica_key':
      return `mica_key:${p.keyId}`;
    default: {
      const ip = parseIp(req.ip);
      return `public:${ip ? formatIp(ip) : String(req.ip)}`;
    }
  }
}

/**
 * `@Idempotent()` routes (SPEC §13). Runs after the route's guards, so a replay needs the same
 * credential to still pass, and around the handler: the handler's result (the envelope's `data`)
 * and status are what is stored and replayed; the envelope's metadata is the replaying request's own.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(
    private readonly idempotency: IdempotencyService,
    private readonly logger: JsonLogger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const http = context.switchToHttp();
    const req = http.getRequest<AuthenticatedRequest>();
    const res = http.getResponse<Response>();
    const header = req.headers[IDEMPOTENCY_HEADER];
    if (header === undefined) return next.handle();
    if (typeof header !== 'string' || !IDEMPOTENCY_KEY_FORMAT.test(header)) {
      throw new AppException('VALIDATION_ERROR', 'Idempotency-Key must be 1–255 visible ASCII characters.', {
        'Idempotency-Key': ['must be 1-255 visible ASCII characters'],
      });
    }
    const request = {
      scope: idempotencyScope(req),
      idempotencyKey: header,
      method: req.method,
      path: req.originalUrl,
      body: req.body as unknown,
    };
    return from(this.idempotency.begin(request)).pipe(
      switchMap((begun) => {
        if (begun.kind === 'replay') {
          res.status(begun.status);
          res.setHeader(REPLAYED_HEADER, 'true');
          return of(begun.body);
        }
        const claim = begun.claim;
        return next.handle().pipe(
          mergeMap(async (body: unknown) => {
            try {
              await this.idempotency.complete(claim, res.statusCode, body);
            } catch (e) {
              // The work is done and answered; a retry within STALE_CLAIM_MS waits, after it would redo the work.
              this.logger.event('warn', 'could not store an idempotent answer', { requestId: req.requestId, err: (e as Error).message });
            }
            return body;
          }),
          catchError(async (e: unknown) => {
            await this.idempotency
              .release(claim)
              .catch((err: Error) =>
                this.logger.event('warn', 'could not release an idempotency claim', { requestId: req.requestId, err: err.message }),
              );
            throw e;
          }),
        );
      }),
    );
  }
}
