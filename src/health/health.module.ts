import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { UsersModule } from '../users/users.module';
import { HealthController } from './health.controller';

// NotificationsService and RedisService come from NotificationsModule (global).
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), UsersModule],
  controllers: [HealthController],
})
export class HealthModule {}
