import { Module } from '@nestjs/common';
import { AuthModule } from './auth/auth.module';
import { AppConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { NotificationsModule } from './notifications/notifications.module';
import { RedisModule } from './redis/redis.module';

/** What the command line needs: the app's services without HTTP, sockets or schedules. */
@Module({
  imports: [AppConfigModule, DatabaseModule, RedisModule, AuthModule, NotificationsModule],
})
export class CliModule {}
