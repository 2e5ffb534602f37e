import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminAuth, AdminScope } from '../../auth/auth.decorators';
import { CurrentActor } from '../../auth/principal';
import type { Actor } from '../../domain/actor';
import { ApiEnvelope, ApiErrors } from '../../common/http/api-responses';
import { RegisterAdminService } from './register-admin.service';
import { SyncReportDto, SyncRequestDto } from './register.dto';

@ApiTags('MiCA register (admin)')
@AdminAuth()
@Controller('admin/mica')
export class RegisterAdminController {
  constructor(private readonly admin: RegisterAdminService) {}

  @Post('sync')
  @HttpCode(200)
  @AdminScope('register:sync')
  @ApiOperation({
    summary: 'Import the five ESMA files now, from a folder on the server or the configured MICA_SYNC_URL',
    description:
      "Answers the run's report. A register whose file is unreachable, unparsable or looks truncated keeps its data (`ok: false`).",
  })
  @ApiEnvelope(SyncReportDto)
  @ApiErrors('VALIDATION_ERROR', 'UNSUPPORTED_MEDIA_TYPE')
  sync(@Body() dto: SyncRequestDto, @CurrentActor() actor: Actor): Promise<SyncReportDto> {
    return this.admin.syncNow(dto, actor);
  }
}
