import { applyDecorators, CallHandler, ExecutionContext, Injectable, NestInterceptor, UseInterceptors } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { AppException } from '../errors/app.exception';

@Injectable()
class NoBodyInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const body: unknown = context.switchToHttp().getRequest<Request>().body;
    const empty =
      body === undefined || body === null || (typeof body === 'object' && !Array.isArray(body) && Object.keys(body).length === 0);
    if (!empty) {
      const fields = typeof body === 'object' && !Array.isArray(body) ? Object.keys(body) : ['body'];
      throw new AppException(
        'VALIDATION_ERROR',
        'This operation takes no request body.',
        Object.fromEntries(fields.map((f) => [f, [`${f} is not allowed`]])),
      );
    }
    return next.handle();
  }
}

/**
 * For operations that take no body: a body with fields is refused like any unknown field, so a
 * client that thinks it is passing an option (say, an overlap to `revoke`) learns it is not.
 */
export function NoBody(): MethodDecorator {
  return applyDecorators(UseInterceptors(NoBodyInterceptor));
}
