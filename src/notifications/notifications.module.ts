import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { LimitsModule } from '../limits/limits.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AfterCommit } from './after-commit';
import { DeliveryLeader } from './delivery/delivery-leader';
import { Doorbell } from './delivery/doorbell';
import { OutboxRepository } from './delivery/outbox.repository';
import { DeactivationWatcher } from './deactivation.watcher';
import { InboxController } from './inbox.controller';
import { InboxRepository } from './inbox.repository';
import { InboxService } from './inbox.service';
import { NotificationsController } from './notifications.controller';
import { NotificationsGateway } from './notifications.gateway';
import { NotificationsPublisher } from './notifications.publisher';
import { NotificationsService } from './notifications.service';
import { RetentionJob } from './retention.job';

/** The notifications domain: storage, the REST routes, the Socket.IO gateway and retention. */
@Module({
  imports: [AuthModule, MetricsModule, LimitsModule, IdempotencyModule],
  controllers: [NotificationsController, InboxController],
  providers: [
    NotificationsService,
    NotificationsPublisher,
    AfterCommit,
    OutboxRepository,
    DeliveryLeader,
    Doorbell,
    NotificationsGateway,
    DeactivationWatcher,
    RetentionJob,
    InboxRepository,
    InboxService,
  ],
  exports: [NotificationsService],
})
export class NotificationsModule {}
