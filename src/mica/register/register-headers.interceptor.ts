import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { Observable, tap } from 'rxjs';
import { Page } from '../../common/http/page';

/** X-Total-Count and X-Data-Source on register lists, from the page the service returned. */
@Injectable()
export class RegisterHeadersInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      tap((result) => {
        if (result instanceof Page) {
          res.setHeader('X-Total-Count', String(result.pagination.total));
          const source = result.metadata?.source;
          res.setHeader('X-Data-Source', typeof source === 'string' ? source : 'database');
        } else {
          res.setHeader('X-Data-Source', 'database');
        }
      }),
    );
  }
}
