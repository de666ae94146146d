import { DynamicModule, Module } from '@nestjs/common';
import { AppConfigModule } from '../config/config.module';
import { AppConfig } from '../config/configuration';
import { DatabaseModule } from '../database/database.module';
import { NotificationsModule } from '../notifications/notifications.module';
import { notificationsOptionsFrom } from '../notifications/notifications.options';

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
        // No routes, no sockets: it stores and rings the delivery leader; a server pushes.
        NotificationsModule.forRootAsync({
          http: false,
          sockets: false,
          useFactory: () => notificationsOptionsFrom(config),
        }),
      ],
    };
  }
}
