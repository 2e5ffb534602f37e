import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope } from '../auth/auth.decorators';
import { CurrentActor } from '../auth/principal';
import type { Actor } from '../domain/actor';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { InstanceRefPipe } from '../common/http/instance-ref.pipe';
import { RevokeAllKeysDto, RevokedAllDto } from './containment.dto';
import { ContainmentService } from './containment.service';

/** Break glass (SPEC §15): the admin door only; the self-service door has no revoke-all. */
@ApiTags('instance keys (admin)')
@AdminAuth()
@Controller('admin/instances/:instanceRef/keys')
export class BreakGlassController {
  constructor(private readonly containment: ContainmentService) {}

  @Post('revoke-all')
  @AdminScope('keys:write')
  @HttpCode(200)
  @ApiParam({ name: 'instanceRef', example: 'aB3dE5fG', description: '8 alphanumeric characters' })
  @ApiOperation({ summary: 'Break glass: revoke every key of the instance that is not final, in one transaction' })
  @ApiEnvelope(RevokedAllDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  revokeAll(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Body() body: RevokeAllKeysDto,
    @CurrentActor() actor: Actor,
  ): Promise<RevokedAllDto> {
    return this.containment.revokeAll(instanceRef, body.reason, body.exceptKeyIds ?? [], actor);
  }
}
