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
  /**
   * `clusterWorker`: this process is a worker of the primary of `WORKERS` above 1 (`main.ts`
   * knows; the configuration alone does not, a test's app is no worker whatever it says).
   */
  static register(
    config: AppConfig,
    { clusterWorker = false }: { clusterWorker?: boolean } = {},
  ): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule,
        DatabaseModule,
        NotificationsModule.forRootAsync({
          // The development key is read (or generated) when the app is built, not before.
          useFactory: () => ({ ...notificationsOptionsFrom(config), clusterWorker }),
        }),
        HealthModule,
        // A worker's scrape answers for every worker (see ClusterMetrics).
        MetricsModule.register(clusterWorker ? ClusterMetrics : undefined),
        // Mounted only where the configuration allows it: elsewhere its routes do not exist.
        ...DemoModule.registerWhenEnabled(config),
      ],
      providers: [HttpDrain],
    };
  }
}
