import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { DeliveryLeader, DOORBELL_CHANNEL } from './delivery-leader';

/**
 * Tells the delivery leader that something committed to the outbox. In-process when this
 * instance leads; otherwise a NOTIFY in a statement of its own (inside the caller's transaction
 * it would serialise every commit on PostgreSQL's notify lock), at most one in flight: commits
 * during it ring once more after. A lost ring costs at most the leader's poll interval.
 */
@Injectable()
export class Doorbell {
  private readonly logger = new Logger(Doorbell.name);
  private ringing = false;
  private rungAgain = false;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly leader: DeliveryLeader,
  ) {}

  /** Call after the commit that added an outbox row (a ring after a rollback is harmless). */
  ring(): void {
    if (this.leader.isLeading) {
      this.leader.wake();
      return;
    }
    if (this.ringing) {
      this.rungAgain = true;
      return;
    }
    this.ringing = true;
    this.dataSource
      .query(`SELECT pg_notify('${DOORBELL_CHANNEL}', '')`)
      .catch((error: Error) => this.logger.warn(`could not ring the leader: ${error.message}`))
      .finally(() => {
        this.ringing = false;
        if (this.rungAgain) {
          this.rungAgain = false;
          this.ring();
        }
      });
  }
}
