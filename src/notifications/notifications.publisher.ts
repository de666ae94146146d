import { Injectable, Logger } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { ServerToClientEvents } from './events';

/** Anything that can emit to a room: the Socket.IO server (with the Redis adapter when configured). */
export interface RoomEmitter {
  to(room: string): { emit(event: string, ...args: unknown[]): unknown };
}

/** The one room a user's sockets are in. */
export function roomOf(userId: number): string {
  return `user_${userId}`;
}

/** The one place that emits to rooms. An emit is a hint: the row in PostgreSQL is the truth. */
@Injectable()
export class NotificationsPublisher {
  private readonly logger = new Logger(NotificationsPublisher.name);
  private target?: RoomEmitter;

  constructor(private readonly metrics: MetricsService) {}

  /** Called once by whoever owns the way out: the gateway. */
  attach(target: RoomEmitter): void {
    this.target = target;
  }

  /** Whether this process has sockets to emit to (a server does, the command line does not). */
  get isAttached(): boolean {
    return this.target !== undefined;
  }

  /** Emits an event to every socket of the user, on every instance when Redis joins them. */
  toUser<E extends keyof ServerToClientEvents>(
    userId: number,
    event: E,
    payload: Parameters<ServerToClientEvents[E]>[0],
  ): void {
    if (!this.target) return;
    try {
      this.target.to(roomOf(userId)).emit(event, payload);
      this.metrics.emitted(event);
    } catch (error) {
      // Losing an emit loses nothing: the client lists or catches up from the database.
      this.logger.warn(`emit ${event} to user ${userId} failed: ${(error as Error).message}`);
    }
  }
}
