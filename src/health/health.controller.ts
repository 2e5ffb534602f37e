import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { ApiEnvelope, ApiErrors } from '../common/http/api-responses';
import { withDeadline } from '../database/database-errors';

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
    @InjectDataSource() private readonly dataSource: DataSource,
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
    try {
      await withDeadline(this.dataSource.query('SELECT 1'), this.config.database.acquireTimeoutMs + 500, 'readiness');
    } catch {
      throw new AppException('SERVICE_UNAVAILABLE', 'The database is not reachable.');
    }
    return { status: 'ok', database: this.config.database.url ? 'postgres' : 'embedded' };
  }
}
