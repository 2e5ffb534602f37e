import { Controller, Get, Header, Res } from '@nestjs/common';
import { ApiExtension, ApiOperation, ApiProperty, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RESPONSE_HEADERS_EXTENSION } from '../common/openapi/openapi-conventions';
import type { Response } from 'express';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { SERVICE_NAMES, ServiceName } from '../domain/platform-services';
import { KEY_STATUSES, KeyStatus } from '../domain/instance-key.state';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { RequireService } from '../auth/require-service.decorator';

export class VerifiedKeyDto {
  @ApiProperty({ example: 'aB3dE5fG' }) instanceRef: string;
  @ApiProperty({ format: 'uuid' }) instanceId: string;
  @ApiProperty({ format: 'uuid' }) keyId: string;
  @ApiProperty({ enum: KEY_STATUSES, description: 'ACTIVE, or PENDING_ROTATION during a rotation overlap.' }) keyStatus: KeyStatus;
  @ApiProperty({
    enum: SERVICE_NAMES,
    isArray: true,
    description: "The key's effective services: the instance's, within the key's own subset (SPEC §12).",
  })
  services: ServiceName[];
}

/**
 * The verify route as Nest declares it: its OpenAPI entry, and the route itself in any Nest app
 * that imports VerifyModule. This service answers it before Nest's router (verify.handler.ts, mounted
 * by configureApp) with the same check and the same answer, because the platform's every request
 * passes through it and Nest's per-route machinery costs more than the check.
 */
@ApiTags('verification')
@ApiExtension(RESPONSE_HEADERS_EXTENSION, ['X-Trusset-Instance-Ref', 'X-Trusset-Key-Id'])
@Controller('auth')
export class VerifyController {
  @Get('verify')
  @RequireService.fromQuery()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Check an instance key (and optionally a service) for the platform APIs or their gateway',
    description:
      'The answers of SPEC §3. On success the headers `X-Trusset-Instance-Ref` and `X-Trusset-Key-Id` carry the identity for nginx `auth_request_set`.',
  })
  @ApiQuery({
    name: 'service',
    required: false,
    enum: SERVICE_NAMES,
    description: 'The service the request is for; omitted, only the key is checked.',
  })
  @ApiEnvelope(VerifiedKeyDto)
  @ApiErrors('VALIDATION_ERROR')
  verify(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) res: Response): VerifiedKeyDto {
    // The guard has checked the query (RequireService.fromQuery), after the key.
    return verifiedKey(principal, res);
  }
}

/** The success answer of the verify route, and the identity headers a gateway forwards upstream. */
export function verifiedKey(principal: Principal | undefined, res: Response): VerifiedKeyDto {
  if (principal?.kind !== 'instance_key') throw new Error('the instance key check did not run');
  res.setHeader('X-Trusset-Instance-Ref', principal.instanceRef);
  res.setHeader('X-Trusset-Key-Id', principal.keyId);
  return {
    instanceRef: principal.instanceRef,
    instanceId: principal.instanceId,
    keyId: principal.keyId,
    keyStatus: principal.keyStatus as KeyStatus,
    services: [...principal.services].sort((a, b) => SERVICE_NAMES.indexOf(a) - SERVICE_NAMES.indexOf(b)),
  };
}
