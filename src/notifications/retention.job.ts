import { Inject, Injectable, Logger } from '@nestjs/common';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PURGE_LOCK, withAdvisoryLock } from '../database/advisory-lock';
import { NOTIFICATIONS_OPTIONS, type ResolvedNotificationsOptions } from './notifications.options';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { NotificationsService } from './notifications.service';

/** The daily purge of old notifications (`RETENTION_DAYS`), run by one instance at a time. */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);

  constructor(
    @Inject(NOTIFICATIONS_OPTIONS) private readonly options: ResolvedNotificationsOptions,
    private readonly notifications: NotificationsService,
    private readonly idempotency: IdempotencyService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Purges, unless purging is off or another instance is at it; answers how many went. */
  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'retention', waitForCompletion: true })
  async purge(): Promise<number | undefined> {
    const days = this.options.retentionDays;
    if (days === 0) return undefined;
    try {
      const outcome = await withAdvisoryLock(
        this.dataSource,
        PURGE_LOCK,
        { wait: false },
        async () => {
          // Idempotency keys answer for 24 hours only: past that they are dead weight.
          await this.idempotency.purgeExpired();
          return this.notifications.purgeOlderThan(days);
        },
      );
      if (!outcome.locked) return undefined;
      this.logger.log(`Purged ${outcome.result} notifications older than ${days} days`);
      return outcome.result;
    } catch (error) {
      this.logger.error(`Purge failed: ${(error as Error).message}`);
      return undefined;
    }
  }
}
