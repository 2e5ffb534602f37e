import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/http/api-responses';
import type { ServiceName } from '../domain/platform-services';
import { InstanceKeyAuth } from './auth.decorators';
import { REQUIRED_SERVICE, RequiredService, SERVICE_FROM_QUERY } from './instance-auth.guard';

/**
 * Protects a route (or controller) with the instance's key and requires `service` to be enabled for
 * that instance: `@RequireService('trading')` is all a route needs.
 */
export function RequireService(service: ServiceName): MethodDecorator & ClassDecorator {
  return requireService(service);
}

/** The service is named by the request's `service` query parameter; absent or empty checks the key only. */
RequireService.fromQuery = (): MethodDecorator & ClassDecorator => requireService(SERVICE_FROM_QUERY);

function requireService(service: RequiredService): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(REQUIRED_SERVICE, service),
    InstanceKeyAuth(),
    ApiResponse({
      status: 403,
      type: ErrorResponseDto,
      description: '`SERVICE_NOT_ENABLED`: the key is valid, the service is not enabled for its instance.',
    }),
  );
}
