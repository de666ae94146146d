import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { METRICS_SOURCE, type MetricsSource } from './metrics-source';

@ApiTags('operations')
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(METRICS_SOURCE) private readonly metrics: MetricsSource) {}

  /** The Prometheus scrape target. */
  @Get()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics (text exposition format)',
    description:
      'For the scraper, not for browsers: keep it reachable from the monitoring network only.',
  })
  @ApiProduces('text/plain')
  @ApiOkResponse({
    description: 'Counters, gauges and histograms of this instance (all its workers summed)',
    schema: { type: 'string', example: 'notificaciones_created_total 42\n' },
  })
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.scrape();
    res.type(contentType).send(body);
  }
}
