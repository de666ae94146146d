import { ArgumentMetadata, BadRequestException, Inject, Logger, UseFilters } from '@nestjs/common';
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
import { discardHeld, releaseEvents, sendPastHold } from '../websocket/socket-writes';
import { SOCKET_PATH } from '../websocket/socket-path';
import { HandshakeStep } from '../websocket/socket-user';
import { MarkReadDto } from './dto/mark-read.dto';
import { ClientToServerEvents, MarkReadResult, ServerToClientEvents } from './events';
import { NotificationsPublisher } from './notifications.publisher';
import { CatchUp, NotificationsService } from './notifications.service';

/** The handshake's steps, in the order they run (see notifications.module.ts). */
export const HANDSHAKE_STEPS = Symbol('HANDSHAKE_STEPS');

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

/** The socket side of notifications: a connection's first count and catch-up, and mark_read. */
@WebSocketGateway({ path: SOCKET_PATH })
export class NotificationsGateway
  implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect
{
  private readonly logger = new Logger(NotificationsGateway.name);
  private readonly markReadInput = new StrictValidationPipe();

  constructor(
    private readonly notifications: NotificationsService,
    private readonly publisher: NotificationsPublisher,
    @Inject(HANDSHAKE_STEPS) private readonly handshake: readonly HandshakeStep[],
  ) {}

  afterInit(server: NotificationsServer): void {
    for (const step of this.handshake) server.use(step);
  }

  async handleConnection(socket: NotificationsSocket): Promise<void> {
    const { user, since } = socket.data;
    this.disconnectAtExpiry(socket);
    // The room's events wait only for a catch-up to go first (see socket-writes.ts).
    if (since === undefined) releaseEvents(socket);
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
      if (!countedByLeader) {
        sendPastHold(socket, () => socket.emit('unread_count', { unread_count: unread }));
      }
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
    // The replay, then what the room brought meanwhile: in the order things went out.
    sendPastHold(socket, () => this.publisher.replay(socket, replay));
    releaseEvents(socket);
  }

  handleDisconnect(socket: NotificationsSocket): void {
    clearTimeout(socket.data.expiryTimer);
    discardHeld(socket);
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
