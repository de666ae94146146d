import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AppConfigModule } from '../config/config.module';
import { AppConfig } from '../config/configuration';
import { DatabaseModule } from '../database/database.module';
import { NotificationsOptionsModule } from '../notifications/notifications-options.module';
import { notificationsOptionsFrom } from '../notifications/notifications.options';

/**
 * What the user commands (`user:create`, `token`) need: users and token signing. Smaller than
 * CliModule on purpose: loading the notifications domain would cost them a large part of
 * their start-up, and `token` is run by hand, often.
 */
@Module({})
export class CliUsersModule {
  static register(config: AppConfig): DynamicModule {
    return {
      module: CliUsersModule,
      imports: [
        AppConfigModule.forRoot(config),
        DatabaseModule,
        // Token signing reads the key from the domain's options.
        NotificationsOptionsModule.register({
          useFactory: () => notificationsOptionsFrom(config),
        }),
        AuthModule,
      ],
    };
  }
}
