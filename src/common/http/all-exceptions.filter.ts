import { ArgumentsHost, Catch, ExceptionFilter, HttpException, NotFoundException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { sendError } from './envelope';
import { allowedMethods } from './method-not-allowed';
import { JsonLogger } from '../logging/json-logger';
import { AppException } from '../errors/app.exception';
import { ErrorCode } from '../errors/error-codes';

const STATUS_TO_CODE: Record<number, ErrorCode> = {
  400: 'VALIDATION_ERROR',
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMIT_EXCEEDED',
  503: 'SERVICE_UNAVAILABLE',
};

/**
 * Every failure leaves through here and nowhere else, as the one error envelope. `isDatabaseUnavailable`
 * is database/'s test for "could not reach the database in time" (503), handed in by the composition
 * root so that common/ knows nothing of the database.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(
    private readonly logger: JsonLogger,
    private readonly isDatabaseUnavailable: (error: unknown) => boolean,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();

    if (exception instanceof AppException) {
      if (exception.status >= 500) this.logFailure(req, exception);
      if (exception.limiter) res.locals.limiter = exception.limiter;
      return sendError(req, res, exception.code, exception.message, exception.details, exception.headers, exception.status);
    }
    if (exception instanceof NotFoundException && !req.route) {
      // No route matched: a path that exists under another method is 405 with Allow, not 404.
      const allow = allowedMethods(req);
      if (allow.length > 0 && !allow.includes(req.method))
        return sendError(req, res, 'METHOD_NOT_ALLOWED', undefined, undefined, { Allow: allow.join(', ') });
      return sendError(req, res, 'NOT_FOUND');
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = STATUS_TO_CODE[status];
      if (code) return sendError(req, res, code);
      this.logFailure(req, exception);
      return sendError(req, res, 'INTERNAL_ERROR');
    }
    if (this.isDatabaseUnavailable(exception)) {
      this.logger.event('warn', 'database unavailable', {
        requestId: (req as { requestId?: string }).requestId,
        err: errorSummary(exception),
      });
      return sendError(req, res, 'SERVICE_UNAVAILABLE');
    }
    this.logFailure(req, exception);
    sendError(req, res, 'INTERNAL_ERROR');
  }

  private logFailure(req: Request, exception: unknown): void {
    this.logger.event('error', 'request failed', {
      requestId: (req as { requestId?: string }).requestId,
      method: req.method,
      route: (req.route as { path?: string } | undefined)?.path,
      err: exception instanceof Error ? { name: exception.name, message: exception.message, stack: exception.stack } : String(exception),
    });
  }
}

function errorSummary(error: unknown): Record<string, unknown> {
  const e = error as { name?: string; message?: string; code?: string };
  return { name: e?.name, message: e?.message, code: e?.code };
}
