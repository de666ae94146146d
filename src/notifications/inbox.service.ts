import { Injectable } from '@nestjs/common';
import { Doorbell } from './delivery/doorbell';
import { DeleteResult, MarkUnreadResult } from './events';
import { InboxRepository } from './inbox.repository';
import { NotificationsService } from './notifications.service';

/**
 * What a user does to their own notifications besides reading them. Every change is scoped to
 * the caller (other users' ids are ignored, never revealed), and its counts (and deletions) go
 * out from the delivery leader, recounted after the commit and in one order for all instances,
 * exactly as mark-read's do: concurrent changes cannot leave a socket showing a stale count last.
 */
@Injectable()
export class InboxService {
  constructor(
    private readonly inbox: InboxRepository,
    private readonly notifications: NotificationsService,
    private readonly doorbell: Doorbell,
  ) {}

  /** Marks these of the user's notifications unread (read ones only count as updated). */
  async markUnread(userId: number, ids: number[]): Promise<MarkUnreadResult> {
    const { updated, unread } = await this.inbox.markUnread(userId, ids);
    this.doorbell.ring();
    return { updated, unread_count: unread };
  }

  /** Deletes these of the user's notifications, or with `ids` empty every read one. */
  async delete(userId: number, ids: number[]): Promise<DeleteResult> {
    const { deleted, unread } = await this.inbox.delete(userId, ids);
    this.doorbell.ring();
    return { deleted, unread_count: unread };
  }

  /** The user's unread count (shared with concurrent counts of the same user). */
  unreadCount(userId: number): Promise<number> {
    return this.notifications.countUnread(userId);
  }
}
