import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope, InstanceKeyAuth, ManagementTokenAuth } from '../auth/auth.decorators';
import { CurrentPrincipal, Principal } from '../auth/principal';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { KeyIdPipe } from '../common/http/key-id.pipe';
import { InstanceRefPipe } from '../common/http/instance-ref.pipe';
import { CurrentDeveloperId } from '../auth/current-developer.decorator';
import { KeyUsageDto, MicaUsageDto, UsageQueryDto } from './usage-history.dto';
import { UsageHistoryService } from './usage-history.service';

const KeyParam = () => ApiParam({ name: 'keyId', format: 'uuid' });
const SUMMARY =
  'Usage of a key by UTC hour or day (admitted requests, refusals by reason); written in batches every USAGE_FLUSH_INTERVAL_MS';

@ApiTags('instance keys (self-service)')
@InstanceKeyAuth()
@Controller('keys')
export class SelfServiceKeyUsageController {
  constructor(private readonly usage: UsageHistoryService) {}

  @Get(':keyId/usage')
  @KeyParam()
  @ApiOperation({ summary: SUMMARY })
  @ApiEnvelope(KeyUsageDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  usageOf(@CurrentPrincipal() p: Principal, @Param('keyId', KeyIdPipe) keyId: string, @Query() query: UsageQueryDto): Promise<KeyUsageDto> {
    if (p?.kind !== 'instance_key') throw new AppException('AUTH_FAILED');
    return this.usage.instanceKey({ instanceId: p.instanceId }, keyId, query);
  }
}

@ApiTags('instance keys (admin)')
@AdminAuth()
@ApiParam({ name: 'instanceRef', example: 'aB3dE5fG', description: '8 alphanumeric characters' })
@Controller('admin/instances/:instanceRef/keys')
export class AdminKeyUsageController {
  constructor(private readonly usage: UsageHistoryService) {}

  @Get(':keyId/usage')
  @AdminScope('keys:read')
  @KeyParam()
  @ApiOperation({ summary: SUMMARY })
  @ApiEnvelope(KeyUsageDto)
  @ApiErrors('VALIDATION_ERROR', 'NOT_FOUND')
  usageOf(
    @Param('instanceRef', InstanceRefPipe) instanceRef: string,
    @Param('keyId', KeyIdPipe) keyId: string,
    @Query() query: UsageQueryDto,
  ): Promise<KeyUsageDto> {
    return this.usage.instanceKey({ instanceRef }, keyId, query);
  }
}

@ApiTags('MiCA developer accounts')
@ManagementTokenAuth()
@Controller('mica/developer')
export class MicaUsageController {
  constructor(private readonly usage: UsageHistoryService) {}

  @Get('usage')
  @ApiOperation({ summary: "Usage of every key of the account by UTC hour or day, with each active key's quota for today" })
  @ApiEnvelope(MicaUsageDto)
  @ApiErrors('VALIDATION_ERROR')
  usageOf(@CurrentDeveloperId() developerId: string, @Query() query: UsageQueryDto): Promise<MicaUsageDto> {
    return this.usage.micaDeveloper(developerId, query);
  }
}
