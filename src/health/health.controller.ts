import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { DatabaseHealth } from '../database/database-health';

export class HealthDto {
  @ApiProperty({ example: 'ok' })
  status: 'ok';

  @ApiProperty({ example: 'postgres', enum: ['postgres', 'embedded'], required: false })
  database?: string;
}

@ApiTags('operations')
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: DatabaseHealth,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('live')
  @ApiOperation({ summary: 'Liveness: the process answers' })
  @ApiEnvelope(HealthDto)
  live(): HealthDto {
    return { status: 'ok' };
  }

  @Get('ready')
  @ApiOperation({ summary: 'Readiness: the database answers' })
  @ApiEnvelope(HealthDto)
  @ApiErrors('SERVICE_UNAVAILABLE')
  async ready(): Promise<HealthDto> {
    if (!(await this.database.answers())) throw new AppException('SERVICE_UNAVAILABLE', 'The database is not reachable.');
    return { status: 'ok', database: this.config.database.url ? 'postgres' : 'embedded' };
  }
}
