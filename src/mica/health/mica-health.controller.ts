import { Controller, Get } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { MicaKeyAuth } from '../../auth/auth.decorators';
import { ApiEnvelope } from '../../common/http/api-responses';
import { MicaHealthDto } from './mica-health.dto';
import { MicaHealthService } from './mica-health.service';

/** Declares the route; this service answers it ahead of Nest's router (mica-health.handler.ts). */
@ApiTags('MiCA register data')
@MicaKeyAuth()
@Controller('mica/v1')
export class MicaHealthController {
  constructor(private readonly health: MicaHealthService) {}

  @Get('health')
  @ApiOperation({ summary: 'Whether the MiCA Register API answers, and how much register data it holds' })
  @ApiEnvelope(MicaHealthDto)
  async get(): Promise<MicaHealthDto> {
    return this.health.report();
  }
}
