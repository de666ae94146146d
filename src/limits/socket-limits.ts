import { Inject, Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { InjectThrottlerStorage, type ThrottlerStorage } from '@nestjs/throttler';
import proxyaddr from 'proxy-addr';
import type { Socket } from 'socket.io';
import { handshakeToken } from '../auth/handshake-token';
import { TokenVerifier } from '../auth/token-verifier';
import {
  NOTIFICATIONS_OPTIONS,
  type ResolvedNotificationsOptions,
} from '../notifications/notifications.options';
import { HandshakeStep, roomOf, socketUser } from '../websocket/socket-user';

const WINDOW_MS = 60_000;
/** The HTTP limit's throttler (LimitsModule), whose budget handshakes spend too. */
const HTTP_THROTTLER = 'default';

/**
 * A per-socket budget of incoming events, in fixed one-minute windows (simpler than the HTTP
 * limit's sliding window, and enough for one socket: at most twice the budget in any minute).
 * An event over budget is dropped, and its acknowledgement, if it asked for one, says why.
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
 * The Socket.IO side of the abuse limits: handshakes (`HTTP_RATE_LIMIT_PER_MINUTE`, one budget
 * with HTTP requests), sockets per user (`MAX_SOCKETS_PER_USER`, counted on this instance: the
 * count across instances would need a shared store for little gain) and events per socket
 * (`SOCKET_RATE_LIMIT_PER_MINUTE`).
 */
@Injectable()
export class SocketLimits {
  private readonly logger = new Logger(SocketLimits.name);
  private readonly maxSockets: number;
  private readonly eventsPerMinute: number;
  private readonly requestsPerMinute: number;
  /** The sockets admitted per user on this instance (see `admit`). */
  private readonly admitted = new Map<number, Set<string>>();

  constructor(
    @Inject(NOTIFICATIONS_OPTIONS) options: ResolvedNotificationsOptions,
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    private readonly verifier: TokenVerifier,
    private readonly adapterHost: HttpAdapterHost,
  ) {
    this.maxSockets = options.maxSocketsPerUser;
    this.eventsPerMinute = options.socketRateLimitPerMinute;
    this.requestsPerMinute = options.httpRateLimitPerMinute;
  }

  /**
   * The client's address as the HTTP limit sees it (`req.ip`): the peer, or what a trusted
   * proxy says in X-Forwarded-For, by the HTTP server's own `trust proxy` setting
   * (TRUST_PROXY standalone, the host's setting inside a host). Otherwise, behind a proxy,
   * every anonymous handshake would share the proxy's one budget.
   */
  private clientAddress(socket: Socket): string {
    const instance: unknown = this.adapterHost.httpAdapter?.getInstance();
    const trust: unknown =
      instance && typeof (instance as { get?: unknown }).get === 'function'
        ? (instance as { get(setting: string): unknown }).get('trust proxy fn')
        : undefined;
    if (typeof trust !== 'function') return socket.handshake.address;
    return proxyaddr(socket.request, trust as (address: string, hop: number) => boolean);
  }

  /**
   * Handshake middleware that counts each handshake as an HTTP request, in the same budget and
   * keyed the same way (the user of a validly signed token, else the client's address). It goes
   * before authentication: a refused flood then costs no user lookup, and a replayed catch-up
   * per handshake is bounded by it.
   */
  handshakeRate(): HandshakeStep {
    const limit = this.requestsPerMinute;
    const refusal = `too many requests: at most ${limit} per minute, slow down`;
    return (socket, next) => {
      if (limit === 0) {
        next();
        return;
      }
      const userId = this.verifier.subjectOf(handshakeToken(socket.handshake));
      const tracker = userId !== undefined ? `user:${userId}` : `ip:${this.clientAddress(socket)}`;
      this.storage
        .increment(`${HTTP_THROTTLER}:${tracker}`, WINDOW_MS, limit, WINDOW_MS, HTTP_THROTTLER)
        .then(
          (record) => next(record.isBlocked ? new Error(refusal) : undefined),
          (error: unknown) => {
            // The count lives in memory; should it ever fail, a handshake is not refused for it.
            this.logger.warn(`handshake rate limit: ${(error as Error).message}`);
            next();
          },
        );
    };
  }

  /**
   * Handshake middleware: refuses a socket past its user's limit and gives it its event budget.
   * It goes after the socket joined its user's room: the room is what is counted.
   */
  perSocket(): HandshakeStep {
    return (socket, next) => {
      const user = socketUser(socket);
      if (user && !this.admit(user.id, socket)) {
        next(
          new Error(
            `too many connections: at most ${this.maxSockets} sockets per user, close one first`,
          ),
        );
        return;
      }
      if (this.eventsPerMinute > 0) socket.use(eventBudget(this.eventsPerMinute));
      next();
    };
  }

  /**
   * Counts the socket against its user's limit, in one synchronous step: sockets whose
   * handshakes run at the same moment are all in the room before any is counted, so the room's
   * size alone would refuse them all. Only sockets admitted here count, and only while they are
   * in the room (a socket leaves it when it closes, or when a later step refuses it).
   */
  private admit(userId: number, socket: Socket): boolean {
    const room = socket.nsp.adapter.rooms.get(roomOf(userId));
    const admitted = this.admitted.get(userId) ?? new Set<string>();
    for (const id of admitted) if (!room?.has(id)) admitted.delete(id);
    if (admitted.size >= this.maxSockets) {
      if (admitted.size === 0) this.admitted.delete(userId);
      return false;
    }
    admitted.add(socket.id);
    this.admitted.set(userId, admitted);
    socket.once('disconnect', () => {
      admitted.delete(socket.id);
      if (admitted.size === 0 && this.admitted.get(userId) === admitted) {
        this.admitted.delete(userId);
      }
    });
    return true;
  }
}
