import {
  ArgumentMetadata,
  BadRequestException,
  Logger,
  UnauthorizedException,
  UseFilters,
} from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
} from '@nestjs/websockets';
import type { Server, Socket } from 'socket.io';
import { AuthenticatedUser } from '../auth/authenticated-user';
import { AckErrorFilter } from '../common/ack-error.filter';
import { StrictValidationPipe } from '../common/strict-validation.pipe';
import { MetricsService } from '../metrics/metrics.service';
import { handshakeToken } from '../auth/handshake-token';
import { TokenVerifier } from '../auth/token-verifier';
import { SocketLimits } from '../limits/socket-limits';
import { DeactivationWatcher } from './deactivation.watcher';
import { MarkReadDto } from './dto/mark-read.dto';
import {
  ClientToServerEvents,
  HandshakeAuth,
  MarkReadResult,
  ServerToClientEvents,
} from './events';
import { NotificationsPublisher, roomOf } from './notifications.publisher';
import { CatchUp, NotificationsService } from './notifications.service';

export const SOCKET_PATH = '/ws/notificaciones/';

interface SocketData {
  user: AuthenticatedUser;
  since?: number;
  expiryTimer?: NodeJS.Timeout;
}

type NotificationsServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
type NotificationsSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

const MARK_READ_INPUT: ArgumentMetadata = { type: 'body', metatype: MarkReadDto };

/** setTimeout's ceiling (about 24.8 days); a later expiry re-arms on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function sinceFrom(auth: HandshakeAuth): number | undefined | 'invalid' {
  if (auth.since === undefined || auth.since === null) return undefined;
  const text = String(auth.since);
  return /^\d{1,15}$/.test(text) ? Number(text) : 'invalid';
}

@WebSocketGateway({ path: SOCKET_PATH })
export class NotificationsGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect
{
  private readonly logger = new Logger(NotificationsGateway.name);
  private readonly markReadInput = new StrictValidationPipe();

  constructor(
    private readonly verifier: TokenVerifier,
    private readonly notifications: NotificationsService,
    private readonly publisher: NotificationsPublisher,
    private readonly metrics: MetricsService,
    private readonly limits: SocketLimits,
    private readonly deactivation: DeactivationWatcher,
  ) {}

  afterInit(server: NotificationsServer): void {
    this.publisher.attach(server);
    this.metrics.watchSockets(server);
    server.use(this.limits.handshakeRate());
    // Authentication and the room join happen in middleware, before the client's `connect`
    // fires: a bad token never connects, and a notification sent right after `connect` arrives.
    server.use((socket, next) => {
      const auth = (socket.handshake.auth ?? {}) as HandshakeAuth;
      const token = handshakeToken(socket.handshake);
      // The token before `since`: a bad token is `unauthorized` whatever else the handshake says.
      this.verifier.verify(token).then(
        async (user) => {
          const since = sinceFrom(auth);
          if (since === 'invalid') {
            next(new Error('since must be the id of the last notification seen'));
            return;
          }
          socket.data.user = user;
          socket.data.since = since;
          await socket.join(roomOf(user.id));
          next();
        },
        (error: unknown) =>
          next(
            new Error(
              // A database that cannot be reached says nothing about the token: the client
              // should retry, not log its user out.
              error instanceof UnauthorizedException
                ? 'unauthorized'
                : 'service unavailable, try again shortly',
            ),
          ),
      );
    });
    this.limits.attach(server);
    this.deactivation.watch(server);
  }

  async handleConnection(socket: NotificationsSocket): Promise<void> {
    const { user, since } = socket.data;
    this.disconnectAtExpiry(socket);
    // The socket is in its room already: a count the delivery leader publishes from now on
    // reaches it, and is at least as new as any change it has not seen (the leader recounts
    // after every change). Once one has come, this count could only be older: it stays unsent.
    let countedByLeader = false;
    const watchCounts = (event: string): void => {
      if (event === 'unread_count') countedByLeader = true;
    };
    socket.onAnyOutgoing(watchCounts);
    // On failure the socket stays up: live delivery still works and the client can list.
    try {
      const unread = await this.notifications.countUnread(user.id);
      if (!countedByLeader) socket.emit('unread_count', { unread_count: unread });
    } catch (error) {
      this.logger.warn(`unread count for user ${user.id} failed: ${(error as Error).message}`);
    } finally {
      socket.offAnyOutgoing(watchCounts);
    }
    if (since === undefined) return;
    let replay: CatchUp = { notifications: [], complete: false };
    try {
      replay = await this.notifications.catchUp(user.id, since);
    } catch (error) {
      this.logger.warn(`catch-up for user ${user.id} failed: ${(error as Error).message}`);
    }
    for (const notificacion of replay.notifications) {
      socket.emit('notificacion_mensaje', {
        type: 'notificacion_mensaje',
        message: notificacion.mensaje,
        notificacion,
      });
    }
    // Also after a failed or skipped replay: `complete: false` tells the client to list.
    socket.emit('catch_up', {
      replayed: replay.notifications.length,
      complete: replay.complete,
    });
  }

  handleDisconnect(socket: NotificationsSocket): void {
    clearTimeout(socket.data.expiryTimer);
  }

  @SubscribeMessage('mark_read')
  @UseFilters(AckErrorFilter)
  async markRead(
    @ConnectedSocket() socket: NotificationsSocket,
    @MessageBody() body: unknown,
  ): Promise<MarkReadResult | { error: string }> {
    let request: MarkReadDto;
    try {
      // The same checks, in the same order, as the HTTP route's body: shape and keys first, in
      // one pass, so no payload reaches class-transformer's recursion or quadratic key walk.
      request = (await this.markReadInput.transform(body ?? {}, MARK_READ_INPUT)) as MarkReadDto;
    } catch (error) {
      if (!(error instanceof BadRequestException)) throw error;
      const { message } = error.getResponse() as { message: string | string[] };
      return { error: Array.isArray(message) ? message.join('; ') : message };
    }
    try {
      return await this.notifications.markRead(socket.data.user.id, request.ids);
    } catch (error) {
      this.logger.warn(
        `mark_read for user ${socket.data.user.id} failed: ${(error as Error).message}`,
      );
      return { error: 'could not mark read, try again' };
    }
  }

  private disconnectAtExpiry(socket: NotificationsSocket): void {
    const remaining = socket.data.user.expiresAt - Date.now();
    if (remaining <= 0) {
      socket.disconnect(true);
      return;
    }
    socket.data.expiryTimer = setTimeout(
      () => {
        if (Date.now() >= socket.data.user.expiresAt) socket.disconnect(true);
        else this.disconnectAtExpiry(socket);
      },
      Math.min(remaining, MAX_TIMER_MS),
    );
    socket.data.expiryTimer.unref();
  }
}
