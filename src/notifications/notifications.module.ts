import {
  DynamicModule,
  Inject,
  Module,
  OnApplicationBootstrap,
  Optional,
  Provider,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Server } from 'socket.io';
import { AuthModule } from '../auth/auth.module';
import { TokenVerifier } from '../auth/token-verifier';
import { NOTIFICATIONS_ENTITIES } from '../database/schema';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { PreferencesController } from '../preferences/preferences.controller';
import { PreferencesModule } from '../preferences/preferences.module';
import { LimitsModule } from '../limits/limits.module';
import { SocketLimits } from '../limits/socket-limits';
import { UserThrottlerGuard } from '../limits/user-throttler.guard';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { authenticate, joinUserRoom } from '../websocket/handshake-auth';
import { createSocketServer, SOCKET_SERVER } from '../websocket/socket-server';
import { HandshakeStep } from '../websocket/socket-user';
import { AfterCommit } from './after-commit';
import { DeactivationWatcher } from './deactivation.watcher';
import { DeliveryLeader } from './delivery/delivery-leader';
import { Doorbell } from './delivery/doorbell';
import { OutboxRepository } from './delivery/outbox.repository';
import { readSince } from './handshake-since';
import { InboxController } from './inbox.controller';
import { InboxRepository } from './inbox.repository';
import { InboxService } from './inbox.service';
import { NotificationsController } from './notifications.controller';
import { HANDSHAKE_STEPS, NotificationsGateway } from './notifications.gateway';
import {
  NOTIFICATIONS_OPTIONS,
  NotificationsMounts,
  NotificationsOptions,
  type ResolvedNotificationsOptions,
} from './notifications.options';
import {
  NotificationsOptionsModule,
  NotificationsOptionsSource,
} from './notifications-options.module';
import { NotificationsPublisher } from './notifications.publisher';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';
import { RetentionJob } from './retention.job';
import { UsersController } from './users.controller';

/** `forRootAsync`'s argument: the options' factory, and what to mount (known up front). */
export type NotificationsModuleAsyncOptions = NotificationsOptionsSource & NotificationsMounts;

/** The domain's providers, mounted or not. */
const CORE: Provider[] = [
  NotificationsService,
  NotificationsRepository,
  InboxRepository,
  InboxService,
  NotificationsPublisher,
  AfterCommit,
  OutboxRepository,
  DeliveryLeader,
  Doorbell,
  DeactivationWatcher,
  RetentionJob,
  RedisService,
  MetricsService,
];

/** The Socket.IO server and the gateway on it (see SocketIoAdapter for how it is attached). */
const SOCKETS: Provider[] = [
  {
    provide: SOCKET_SERVER,
    inject: [NOTIFICATIONS_OPTIONS, RedisService],
    useFactory: (options: ResolvedNotificationsOptions, redis: RedisService) =>
      createSocketServer(options, redis),
  },
  NotificationsGateway,
  {
    provide: HANDSHAKE_STEPS,
    inject: [SocketLimits, TokenVerifier, DeactivationWatcher],
    useFactory: (
      limits: SocketLimits,
      verifier: TokenVerifier,
      deactivation: DeactivationWatcher,
    ): HandshakeStep[] => [
      // Before authentication: a refused flood costs no user lookup.
      limits.handshakeRate(),
      // The token before `since`: a bad token is `unauthorized` whatever else it says.
      authenticate(verifier),
      readSince,
      joinUserRoom,
      // After the room join: the room is what it counts.
      limits.perSocket(),
      deactivation.refuseInactiveEvents,
    ],
  },
];

/**
 * The HTTP rate limit, app-wide: the standalone service limits every route of its own; inside a
 * host the guard counts only this module's routes (`httpRateLimitScope`). (`Retry-After` on a
 * send refused for load is the send route's own interceptor.)
 */
const HTTP_LIMITS: Provider[] = [{ provide: APP_GUARD, useExisting: UserThrottlerGuard }];

/**
 * The notifications domain: storage, the REST routes, the Socket.IO gateway and retention, on
 * the application's TypeORM `DataSource` (the default connection). `forRoot`/`forRootAsync`
 * make it global: any module of the app injects `NotificationsService`. The standalone service
 * (AppModule) and the command line (CliModule) use it as a host app does.
 */
@Module({})
export class NotificationsModule implements OnApplicationBootstrap {
  constructor(@Optional() @Inject(SOCKET_SERVER) private readonly server?: Server) {}

  static forRoot(options: NotificationsOptions & NotificationsMounts): DynamicModule {
    const { http, sockets, ...settings } = options;
    return NotificationsModule.forRootAsync({ http, sockets, useFactory: () => settings });
  }

  static forRootAsync({
    http = true,
    sockets = true,
    ...source
  }: NotificationsModuleAsyncOptions): DynamicModule {
    return {
      module: NotificationsModule,
      global: true,
      imports: [
        NotificationsOptionsModule.register(source),
        TypeOrmModule.forFeature(NOTIFICATIONS_ENTITIES),
        // Runs the daily purge; the same forRoot() a host may import is one module, not two.
        ScheduleModule.forRoot(),
        AuthModule,
        LimitsModule,
        IdempotencyModule,
        PreferencesModule,
      ],
      controllers: http
        ? [NotificationsController, InboxController, PreferencesController, UsersController]
        : [],
      providers: [...CORE, ...(sockets ? SOCKETS : []), ...(http ? HTTP_LIMITS : [])],
      exports: [
        NotificationsService,
        RedisService,
        MetricsService,
        ...(sockets ? [SOCKET_SERVER] : []),
      ],
    };
  }

  /** A host that forgot the socket adapter would start, and no client could ever connect. */
  onApplicationBootstrap(): void {
    if (this.server && !this.server.httpServer) {
      throw new Error(
        'NotificationsModule: the Socket.IO server is not attached to the HTTP server. Call ' +
          'app.useWebSocketAdapter(new NotificationsSocketAdapter(app)) before app.listen() or ' +
          'app.init(), or mount it with { sockets: false }.',
      );
    }
  }
}
