import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { APP_GUARD, APP_INTERCEPTOR } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthModule } from '../auth/auth.module';
import { AppConfig } from '../config/configuration';
import { RetryAfterInterceptor } from './retry-after.interceptor';
import { SlidingWindowStorage } from './sliding-window-storage';
import { SocketLimits } from './socket-limits';
import { UserThrottlerGuard } from './user-throttler.guard';

/**
 * Abuse limits: HTTP requests per user (`HTTP_RATE_LIMIT_PER_MINUTE`, a global guard), the
 * socket limits the handshake applies, and `Retry-After` on work refused for load. Counts live in
 * each instance's memory: with N instances behind a balancer a client can get up to N times the
 * limit, which is fine for its purpose (stopping a runaway client), and needs no shared store.
 */
@Module({
  imports: [
    AuthModule,
    ThrottlerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AppConfig, true>) => {
        const limit = config.get('httpRateLimitPerMinute', { infer: true });
        return {
          throttlers: [{ name: 'default', ttl: 60_000, limit: Math.max(limit, 1) }],
          skipIf: () => limit === 0,
          // One budget per user (or address) across every route, not one per route.
          generateKey: (_context, tracker, name) => `${name}:${tracker}`,
          errorMessage: `too many requests: at most ${limit} per minute, slow down`,
          storage: new SlidingWindowStorage(),
        };
      },
    }),
  ],
  providers: [
    { provide: APP_GUARD, useClass: UserThrottlerGuard },
    { provide: APP_INTERCEPTOR, useClass: RetryAfterInterceptor },
    SocketLimits,
  ],
  exports: [SocketLimits],
})
export class LimitsModule {}
