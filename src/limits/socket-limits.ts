import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { Server, Socket } from 'socket.io';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { AppConfig } from '../config/configuration';
import { roomOf } from '../notifications/notifications.publisher';

const WINDOW_MS = 60_000;

/**
 * A per-socket budget of incoming events, in fixed one-minute windows (as the HTTP limit). An
 * event over budget is dropped, and its acknowledgement, if it asked for one, says why.
 */
export function eventBudget(
  perMinute: number,
  now: () => number = Date.now,
): Parameters<Socket['use']>[0] {
  let windowStart = now();
  let used = 0;
  return (event, next) => {
    if (now() - windowStart >= WINDOW_MS) {
      windowStart = now();
      used = 0;
    }
    used += 1;
    if (used <= perMinute) {
      next();
      return;
    }
    const ack: unknown = event.at(-1);
    if (typeof ack === 'function') {
      (ack as (reply: { error: string }) => void)({ error: 'rate limited' });
    }
  };
}

/**
 * The Socket.IO side of the abuse limits: sockets per user (`MAX_SOCKETS_PER_USER`, counted on
 * this instance: the count across instances would need a shared store for little gain) and
 * events per socket (`SOCKET_RATE_LIMIT_PER_MINUTE`).
 */
@Injectable()
export class SocketLimits {
  private readonly maxSockets: number;
  private readonly eventsPerMinute: number;

  constructor(config: ConfigService<AppConfig, true>) {
    this.maxSockets = config.get('maxSocketsPerUser', { infer: true });
    this.eventsPerMinute = config.get('socketRateLimitPerMinute', { infer: true });
  }

  /**
   * Adds the checks as handshake middleware. Register it after the middleware that authenticates
   * the socket and joins it to its user's room: the room is what is counted.
   */
  attach(server: Server): void {
    server.use((socket, next) => {
      const user = (socket.data as { user?: AuthenticatedUser }).user;
      if (user) {
        // This socket is in the room already, hence "more than".
        const open = server.sockets.adapter.rooms.get(roomOf(user.id))?.size ?? 0;
        if (open > this.maxSockets) {
          next(
            new Error(
              `too many connections: at most ${this.maxSockets} sockets per user, close one first`,
            ),
          );
          return;
        }
      }
      if (this.eventsPerMinute > 0) socket.use(eventBudget(this.eventsPerMinute));
      next();
    });
  }
}
