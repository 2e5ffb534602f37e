import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import type { Observable } from 'rxjs';
import { AppException } from '../errors/app.exception';
import { prototypeField } from './json-body.middleware';

/**
 * Global: a body field named `__proto__`, `constructor` or `prototype` is refused (400 with its path)
 * like any unknown field. It runs after the guards, so an unauthenticated caller gets its 401 first,
 * and before the validation pipe, which could not see such a field.
 */
@Injectable()
export class RefusePrototypeFieldsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const body = context.switchToHttp().getRequest<Request>().body as unknown;
    if (body !== null && typeof body === 'object') {
      const found = prototypeField(body);
      if (found) throw new AppException('VALIDATION_ERROR', undefined, { [found.path]: [found.problem] });
    }
    return next.handle();
  }
}
