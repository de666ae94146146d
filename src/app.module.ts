import { DynamicModule, Module } from '@nestjs/common';
import { ClusterMetrics } from './cluster/cluster-metrics';
import { HttpDrain } from './common/http-drain';
import { AppConfigModule } from './config/config.module';
import { AppConfig } from './config/configuration';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { notificationsOptionsFrom } from './notifications/notifications.options';

/**
 * The service, for a configuration parsed once by the caller (`loadConfig()`, or a test's): a
 * host of NotificationsModule like any other, with its own database connection, logs, health,
 * metrics and demo around it.
 */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule,
        DatabaseModule,
        NotificationsModule.forRootAsync({
          // The development key is read (or generated) when the app is built, not before.
          useFactory: () => notificationsOptionsFrom(config),
        }),
        HealthModule,
        // A worker's scrape answers for every worker (see ClusterMetrics).
        MetricsModule.register(config.workers > 1 ? ClusterMetrics : undefined),
        // Mounted only where the configuration allows it: elsewhere its routes do not exist.
        ...DemoModule.registerWhenEnabled(config),
      ],
      providers: [HttpDrain],
    };
  }
}
