import { DynamicModule, Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HttpDrain } from './common/http-drain';
import { AppConfigModule } from './config/config.module';
import { AppConfig } from './config/configuration';
import { DatabaseModule } from './database/database.module';
import { DemoModule } from './demo/demo.module';
import { HealthModule } from './health/health.module';
import { LoggingModule } from './logging/logging.module';
import { MetricsModule } from './metrics/metrics.module';
import { NotificationsModule } from './notifications/notifications.module';
import { PreferencesModule } from './preferences/preferences.module';
import { RedisModule } from './redis/redis.module';
import { WebSocketModule } from './websocket/websocket.module';

/** The service, for a configuration parsed once by the caller (`loadConfig()`, or a test's). */
@Module({})
export class AppModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        LoggingModule,
        DatabaseModule,
        RedisModule,
        WebSocketModule,
        ScheduleModule.forRoot(),
        NotificationsModule,
        PreferencesModule,
        HealthModule,
        MetricsModule,
        // Mounted only where the configuration allows it: elsewhere its routes do not exist.
        ...DemoModule.registerWhenEnabled(config),
      ],
      providers: [HttpDrain],
    };
  }
}
