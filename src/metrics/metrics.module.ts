import { DynamicModule, Module, Type } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { METRICS_SOURCE, MetricsSource } from './metrics-source';
import { MetricsService } from './metrics.service';

/**
 * Prometheus metrics at `/metrics`, for the standalone service. `MetricsService` itself belongs
 * to NotificationsModule (which counts into it, and exports it): a host app has no `/metrics`
 * route unless it mounts one.
 */
@Module({})
export class MetricsModule {
  /** `source`: what else answers the scrape (a cluster worker's: every worker's figures). */
  static register(source?: Type<MetricsSource>): DynamicModule {
    return {
      module: MetricsModule,
      controllers: [MetricsController],
      providers: [
        source
          ? { provide: METRICS_SOURCE, useClass: source }
          : { provide: METRICS_SOURCE, useExisting: MetricsService },
      ],
    };
  }
}
