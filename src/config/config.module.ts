import { DynamicModule, Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AppConfig } from './configuration';

/**
 * The validated configuration as `ConfigService<AppConfig, true>`, for the whole app. It does
 * not read anything itself: the entry point parses `.env` and the environment once
 * (`loadConfig()`), decides what to mount from the result, and hands the same object here.
 */
@Module({})
export class AppConfigModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppConfigModule,
      global: true,
      providers: [{ provide: ConfigService, useValue: new ConfigService(config) }],
      exports: [ConfigService],
    };
  }
}
