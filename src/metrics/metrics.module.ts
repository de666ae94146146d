import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';

/**
 * Prometheus metrics at `/metrics`, for the standalone service. `MetricsService` itself belongs
 * to NotificationsModule (which counts into it, and exports it): a host app has no `/metrics`
 * route unless it mounts one.
 */
@Module({ controllers: [MetricsController] })
export class MetricsModule {}
