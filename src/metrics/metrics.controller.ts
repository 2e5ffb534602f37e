import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { MetricsService } from './metrics.service';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @ApiOperation({ summary: 'Prometheus metrics (text exposition format, not the JSON envelope)' })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Request counts and latencies by route and status, key-check outcomes, process metrics.',
    content: { 'text/plain': { schema: { type: 'string', example: '# HELP http_requests_total HTTP requests by method, route pattern and status.\n' } } },
  })
  async scrape(@Res() res: Response): Promise<void> {
    res.setHeader('Content-Type', this.metrics.registry.contentType);
    res.setHeader('Cache-Control', 'no-store');
    res.send(await this.metrics.registry.metrics());
  }
}
