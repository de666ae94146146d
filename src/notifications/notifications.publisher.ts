import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { Adapter } from 'socket.io-adapter';
import { MetricsService } from '../metrics/metrics.service';
import { RedisService } from '../redis/redis.service';
import { SOCKET_SERVER } from '../websocket/socket-server';
import { roomOf } from '../websocket/socket-user';
import { NotificacionJson, ServerToClientEvents } from './events';
import { notificacionMensaje } from './payloads';
import type { CatchUp } from './notifications.service';

/** Emits written to Redis and not yet taken past which a fan-out waits a moment (bytes). */
const PUBLISH_BACKLOG_BYTES = 4 * 1024 * 1024;
const PUBLISH_BACKLOG_WAIT_MS = 5;

const delay = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * The rooms of a Socket.IO server whose adapter reaches this instance's sockets only (the
 * in-memory one, not Redis or any other that carries emits to other instances).
 */
function localOnlyRooms(server: Server): ReadonlyMap<string, unknown> | undefined {
  const adapter: unknown = server.sockets.adapter;
  return adapter instanceof Adapter && adapter.constructor === Adapter ? adapter.rooms : undefined;
}

/**
 * The one place that emits: to user rooms, the events and payloads the contract names, paced
 * to what Redis takes. An emit is a hint: the row in PostgreSQL is the truth.
 */
@Injectable()
export class NotificationsPublisher {
  private readonly logger = new Logger(NotificationsPublisher.name);
  /** Set when nothing outside this instance hears an emit: see `localOnlyRooms`. */
  private readonly localRooms?: ReadonlyMap<string, unknown>;

  constructor(
    private readonly metrics: MetricsService,
    @Optional() private readonly redis: RedisService | undefined,
    @Optional() @Inject(SOCKET_SERVER) private readonly target?: Server,
  ) {
    this.localRooms = target && localOnlyRooms(target);
  }

  /** Whether this process has sockets to emit to (the app does, the command line does not). */
  get hasSockets(): boolean {
    return this.target !== undefined;
  }

  /** A notification, to every socket of its user. */
  notificacion(userId: number, notificacion: NotificacionJson): void {
    this.toUser(userId, 'notificacion_mensaje', notificacionMensaje(notificacion));
  }

  /** The user's unread count, to every socket of the user. */
  unreadCount(userId: number, unread: number): void {
    this.toUser(userId, 'unread_count', { unread_count: unread });
  }

  /** The notifications a delete removed, to every socket of the user. */
  deleted(userId: number, ids: number[]): void {
    this.toUser(userId, 'notificaciones_eliminadas', { ids });
  }

  /**
   * A catch-up, to the one socket that asked: the notifications it missed, then `catch_up`
   * (also after a failed or skipped replay: `complete: false` tells the client to list).
   */
  replay(socket: Pick<Socket<never, ServerToClientEvents>, 'emit'>, catchUp: CatchUp): void {
    for (const notificacion of catchUp.notifications) {
      socket.emit('notificacion_mensaje', notificacionMensaje(notificacion));
    }
    socket.emit('catch_up', {
      replayed: catchUp.notifications.length,
      complete: catchUp.complete,
    });
  }

  /**
   * Resolves once Redis has taken most of what was emitted (at once without Redis), or once
   * `stillWanted` says to stop waiting. Emits are fire and forget: a large fan-out paces itself
   * on this, or it would pile up in memory faster than Redis takes it.
   */
  async paced(stillWanted: () => boolean): Promise<void> {
    while (this.backlogBytes() > PUBLISH_BACKLOG_BYTES && stillWanted()) {
      await delay(PUBLISH_BACKLOG_WAIT_MS);
    }
  }

  /** Bytes of emits written to Redis but not yet taken by it (0 without Redis). */
  private backlogBytes(): number {
    if (!this.redis?.enabled) return 0;
    return this.redis.connections()?.pub.stream?.writableLength ?? 0;
  }

  /** Emits an event to every socket of the user, on every instance when Redis joins them. */
  private toUser<E extends keyof ServerToClientEvents>(
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
