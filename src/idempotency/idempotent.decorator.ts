import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/http/api-responses';
import { IdempotencyInterceptor } from './idempotency.interceptor';

/**
 * Makes a create or rotate route idempotent under an optional `Idempotency-Key` header (SPEC §13):
 * the same key and body from the same principal within 24 h answer the first answer again.
 * Put it on the route after its guards' decorators; it needs nothing else from the route.
 */
export function Idempotent(): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: 'Idempotency-Key',
      required: false,
      description:
        'Optional, 1–255 visible ASCII characters (a UUID is a good choice). Repeating the request with the same key and body within 24 h answers the first answer again (status and body, secrets included, header `Idempotent-Replayed: true`) without doing the work twice. 409 `IDEMPOTENCY_IN_PROGRESS`: the first request is still running.',
    }),
    ApiResponse({
      status: 422,
      type: ErrorResponseDto,
      description: '`IDEMPOTENCY_KEY_REUSED`: this Idempotency-Key was used with another request.',
    }),
  );
}
