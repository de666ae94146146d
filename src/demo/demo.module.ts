import { DynamicModule, Logger, Module, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/configuration';
import { DemoPageController } from './demo-page.controller';
import { demoPolicy } from './demo-users';
import { DemoUsersController } from './demo-users.controller';
import { DemoService } from './demo.service';

/**
 * The demo inbox at `/`: on in development, off in production unless `DEMO_ENABLED=true`, and
 * its token minting never in production. Decided from the parsed configuration when the app is
 * assembled (`AppModule.register`), so disabled routes do not exist at all (404 like any
 * unknown path) rather than exist behind a check. Not `ConditionalModule.registerWhen`: that
 * reads `process.env` once per process, and tests assemble apps of several configurations in one.
 */
@Module({})
export class DemoModule implements OnModuleInit {
  constructor(private readonly config: ConfigService<AppConfig, true>) {}

  /** `[]` where the demo is off; else the module with the routes this configuration allows. */
  static registerWhenEnabled(config: AppConfig): DynamicModule[] {
    const policy = demoPolicy(config);
    if (!policy.page) return [];
    return [
      {
        module: DemoModule,
        imports: [AuthModule],
        controllers: policy.minting
          ? [DemoPageController, DemoUsersController]
          : [DemoPageController],
        // Also without the routes: it refuses to mint in production whoever calls it.
        providers: [DemoService],
      },
    ];
  }

  onModuleInit(): void {
    const { minting } = demoPolicy({
      nodeEnv: this.config.get('nodeEnv', { infer: true }),
      demoEnabled: this.config.get('demoEnabled', { infer: true }),
    });
    new Logger(DemoModule.name).log(
      minting
        ? 'Demo inbox at / with demo users (development only)'
        : 'Demo inbox at / (DEMO_ENABLED): users paste a token',
    );
  }
}
