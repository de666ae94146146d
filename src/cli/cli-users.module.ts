import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { AppConfigModule } from '../config/config.module';
import { AppConfig } from '../config/configuration';
import { DatabaseModule } from '../database/database.module';

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
      imports: [AppConfigModule.forRoot(config), DatabaseModule, AuthModule],
    };
  }
}
