import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AppConfigModule } from '../config/config.module';
import { AppConfig } from '../config/configuration';
import { DatabaseModule } from '../database/database.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { RedisModule } from '../redis/redis.module';

/**
 * What the notification commands need: the app's services without HTTP, sockets or schedules.
 * It stores and rings the delivery leader; a running service pushes (see `notify`).
 */
@Module({})
export class CliModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        RedisModule,
        AuthModule,
        NotificationsModule,
        IdempotencyModule,
      ],
    };
  }
}
