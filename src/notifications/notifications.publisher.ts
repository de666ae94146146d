import { Injectable, Logger, Optional } from '@nestjs/common';
import { Adapter } from 'socket.io-adapter';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { ServerToClientEvents } from './events';

/** Anything that can emit to a room: the Socket.IO server (with the Redis adapter when configured). */
export interface RoomEmitter {
  to(room: string): { emit(event: string, ...args: unknown[]): unknown };
}

/**
 * The rooms of a Socket.IO server whose adapter reaches this instance's sockets only (the
 * in-memory one, not Redis or any other that carries emits to other instances).
 */
function localOnlyRooms(target: RoomEmitter): ReadonlyMap<string, unknown> | undefined {
  const adapter = (target as { sockets?: { adapter?: unknown } }).sockets?.adapter;
  return adapter instanceof Adapter && adapter.constructor === Adapter ? adapter.rooms : undefined;
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
  /** Set when nothing outside this instance hears an emit: see `localOnlyRooms`. */
  private localRooms?: ReadonlyMap<string, unknown>;

  constructor(
    private readonly metrics: MetricsService,
    @Optional() private readonly redis?: RedisService,
  ) {}

  /**
   * Bytes of emits written to Redis but not yet taken by it (0 without Redis). Emits are fire
   * and forget: a large fan-out paces itself on this, or it would pile up in memory faster
   * than Redis takes it.
   */
  publishBacklog(): number {
    if (!this.redis?.enabled) return 0;
    return this.redis.connections()?.pub.stream?.writableLength ?? 0;
  }

  /** Called once by whoever owns the way out: the gateway. */
  attach(target: RoomEmitter): void {
    this.target = target;
    this.localRooms = localOnlyRooms(target);
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
    const room = roomOf(userId);
    // Socket.IO encodes the packet before it looks for sockets: a fan-out to 10,000 users, few
    // of them online, would encode 10,000 copies of the message for nobody. (Counted all the
    // same: the metric is of emits to rooms, not of sockets reached.)
    if (this.localRooms && !this.localRooms.has(room)) {
      this.metrics.emitted(event);
      return;
    }
    try {
      this.target.to(room).emit(event, payload);
      this.metrics.emitted(event);
    } catch (error) {
      // Losing an emit loses nothing: the client lists or catches up from the database.
      this.logger.warn(`emit ${event} to user ${userId} failed: ${(error as Error).message}`);
    }
  }
}
