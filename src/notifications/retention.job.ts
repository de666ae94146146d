import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Cron, CronExpression } from '@nestjs/schedule';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/configuration';
import { IdempotencyService } from '../idempotency/idempotency.service';
import { NotificationsService } from './notifications.service';

/** Any two values, so long as no other code on the same database takes this advisory lock. */
const PURGE_LOCK: [number, number] = [0x6e6f7466, 2];

/** The daily purge of old notifications (`RETENTION_DAYS`), run by one instance at a time. */
@Injectable()
export class RetentionJob {
  private readonly logger = new Logger(RetentionJob.name);

  constructor(
    private readonly config: ConfigService<AppConfig, true>,
    private readonly notifications: NotificationsService,
    private readonly idempotency: IdempotencyService,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  @Cron(CronExpression.EVERY_DAY_AT_3AM, { name: 'retention', waitForCompletion: true })
  async purge(): Promise<number | undefined> {
    const days = this.config.get('retentionDays', { infer: true });
    if (days === 0) return undefined;
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      const [{ locked }] = (await lock.query(
        'SELECT pg_try_advisory_lock($1, $2) AS locked',
        PURGE_LOCK,
      )) as Array<{
        locked: boolean;
      }>;
      if (!locked) return undefined;
      try {
        // Idempotency keys answer for 24 hours only: past that they are dead weight.
        await this.idempotency.purgeExpired();
        const deleted = await this.notifications.purgeOlderThan(days);
        this.logger.log(`Purged ${deleted} notifications older than ${days} days`);
        return deleted;
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1, $2)', PURGE_LOCK);
      }
    } catch (error) {
      this.logger.error(`Purge failed: ${(error as Error).message}`);
      return undefined;
    } finally {
      await lock.release();
    }
  }
}
