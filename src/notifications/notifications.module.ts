import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokenVerifier } from '../auth/token-verifier';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { LimitsModule } from '../limits/limits.module';
import { SocketLimits } from '../limits/socket-limits';
import { MetricsModule } from '../metrics/metrics.module';
import { authenticate, joinUserRoom } from '../websocket/handshake-auth';
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
import { NotificationsPublisher } from './notifications.publisher';
import { NotificationsRepository } from './notifications.repository';
import { NotificationsService } from './notifications.service';
import { RetentionJob } from './retention.job';
import { UsersController } from './users.controller';

/** The notifications domain: storage, the REST routes, the Socket.IO gateway and retention. */
@Module({
  imports: [AuthModule, MetricsModule, LimitsModule, IdempotencyModule],
  controllers: [NotificationsController, InboxController, UsersController],
  providers: [
    NotificationsService,
    NotificationsRepository,
    InboxRepository,
    InboxService,
    NotificationsPublisher,
    AfterCommit,
    OutboxRepository,
    DeliveryLeader,
    Doorbell,
    NotificationsGateway,
    DeactivationWatcher,
    RetentionJob,
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
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
