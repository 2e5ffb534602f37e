import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { parseBearer } from '../common/http/bearer';
import { APP_CONFIG, AppConfig } from '../config/app.config';
import { AppException } from '../common/errors/app.exception';
import { secretsEqual } from '../common/crypto/secrets';
import { ErrorResponseDto } from '../common/http/api-responses';
import { MetricsService } from './metrics.service';

export const METRICS_TOKEN_SECURITY = 'metrics-token';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get()
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format, not the JSON envelope)',
    description:
      'Public unless METRICS_TOKEN is set; then `Authorization: Bearer <METRICS_TOKEN>` is required. The metrics are listed in docs/metrics.md.',
  })
  // Either no credential (METRICS_TOKEN unset) or the metrics token; decorators apply bottom-up, so
  // the document lists the public alternative first.
  @ApiBearerAuth(METRICS_TOKEN_SECURITY)
  @ApiSecurity({})
  @ApiOkResponse({
    description:
      'Request counts and latencies by route and status, key-check outcomes and cache, database pool, Redis, invalidation channel, rate-limit refusals, register imports, process metrics.',
    content: {
      'text/plain': {
        schema: { type: 'string', example: '# HELP http_requests_total HTTP requests by method, route pattern and status.\n' },
      },
    },
  })
  @ApiResponse({
    status: 401,
    type: ErrorResponseDto,
    description: '`UNAUTHORIZED` (METRICS_TOKEN is set and no bearer token was sent) or `INVALID_TOKEN`.',
  })
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    const expected = this.config.metricsToken;
    if (expected !== undefined) {
      const bearer = parseBearer(req.headers.authorization);
      if (!bearer.ok) throw new AppException('UNAUTHORIZED');
      if (!secretsEqual(bearer.token, expected)) throw new AppException('INVALID_TOKEN');
    }
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(await this.metrics.registry.metrics());
  }
}
