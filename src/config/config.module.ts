import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { parseConfig } from './configuration';

/** Reads `.env` (when present) and the environment once, validated, for the whole app. */
@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      cache: true,
      validate: parseConfig,
    }),
  ],
})
export class AppConfigModule {}
