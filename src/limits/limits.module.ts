import { Module } from '@nestjs/common';
import { ThrottlerModule } from '@nestjs/throttler';
import { AuthModule } from '../auth/auth.module';
import {
  NOTIFICATIONS_OPTIONS,
  type ResolvedNotificationsOptions,
} from '../notifications/notifications.options';
import { RetryAfterInterceptor } from './retry-after.interceptor';
import { SlidingWindowStorage } from './sliding-window-storage';
import { SocketLimits } from './socket-limits';
import { UserThrottlerGuard } from './user-throttler.guard';

/**
 * Abuse limits: HTTP requests per user (`HTTP_RATE_LIMIT_PER_MINUTE`, an app-wide guard), the
 * socket limits the handshake applies, and `Retry-After` on work refused for load. Counts live in
 * each instance's memory: with N instances behind a balancer a client can get up to N times the
 * limit, which is fine for its purpose (stopping a runaway client), and needs no shared store.
 */
@Module({
  imports: [
    AuthModule,
    ThrottlerModule.forRootAsync({
      inject: [NOTIFICATIONS_OPTIONS],
      useFactory: (options: ResolvedNotificationsOptions) => {
        const limit = options.httpRateLimitPerMinute;
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
  // The guard is bound app-wide (APP_GUARD) by NotificationsModule when it mounts its routes;
  // the interceptor by the send route, the one whose work waits for admission.
  providers: [UserThrottlerGuard, RetryAfterInterceptor, SocketLimits],
  exports: [UserThrottlerGuard, RetryAfterInterceptor, SocketLimits],
})
export class LimitsModule {}
