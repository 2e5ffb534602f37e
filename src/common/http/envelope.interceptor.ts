import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request } from 'express';
import { map, Observable } from 'rxjs';
import { metadataFor } from './envelope';
import { Page } from './page';
import { Unwrapped } from './unwrapped';

/** Wraps every successful answer in `{success, data, [pagination], metadata}`. */
@Injectable()
export class EnvelopeInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    return next.handle().pipe(
      map((result: unknown) => {
        if (result instanceof Unwrapped) return result.body as unknown;
        if (result instanceof Page) {
          return { success: true, data: result.items, pagination: result.pagination, metadata: metadataFor(req, result.metadata) };
        }
        return { success: true, data: result ?? null, metadata: metadataFor(req) };
      }),
    );
  }
}
