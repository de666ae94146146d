import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { DemoRoutes } from './demo.routes';
import { DemoService } from './demo.service';

/** The demo inbox at `/`: on in development, off in production unless `DEMO_ENABLED=true`. */
@Module({
  imports: [AuthModule],
  providers: [DemoService, DemoRoutes],
})
export class DemoModule {}
