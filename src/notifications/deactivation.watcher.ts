import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import type { Server, Socket } from 'socket.io';
import { UsersService } from '../users/users.service';
import { SOCKET_SERVER } from '../websocket/socket-server';
import { HandshakeStep, roomOf, socketUser } from '../websocket/socket-user';

/** How often the open sockets' users are checked: the contract allows 5 s to disconnect. */
export const SWEEP_INTERVAL_MS = 2_000;
/** User ids per query. */
const IDS_PER_QUERY = 1_000;

/**
 * A user deactivated (or deleted) loses its open sockets too, whoever wrote the users table:
 * the API, the CLI, the host application or plain SQL, through any instance. Nothing tells an
 * instance about such a write, so each one checks, every couple of seconds, which users with
 * sockets on it are no longer active (one query per batch of ids) and disconnects those sockets.
 * Between two checks, an event from such a socket is refused at once: every client event looks
 * its user up first, as every HTTP request does. A deactivation made through this service's own
 * API does not wait for a check: see `disconnectUser`.
 */
@Injectable()
export class DeactivationWatcher implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DeactivationWatcher.name);
  private timer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly users: UsersService,
    @Optional() @Inject(SOCKET_SERVER) private readonly server?: Server,
  ) {}

  /** Starts the checks of this instance's sockets (none in a process without sockets). */
  onApplicationBootstrap(): void {
    if (this.server) this.schedule();
  }

  /**
   * Handshake middleware giving each socket the per-event check: an event from a user no
   * longer active is refused and the socket closed.
   */
  readonly refuseInactiveEvents: HandshakeStep = (socket, next) => {
    socket.use(this.refuseInactive(socket));
    next();
  };

  /**
   * Disconnects the user's sockets now: on every instance when the Redis adapter joins them
   * (it carries the request), on this one otherwise (the others' checks then find them).
   */
  disconnectUser(userId: number): void {
    this.server?.in(roomOf(userId)).disconnectSockets(true);
    this.logger.log(`Disconnected the sockets of user ${userId}: deactivated`);
  }

  /** Stops the checks before the database pool closes, waiting for one in flight. */
  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.sweeping;
  }

  /** Disconnects the sockets on this instance whose user is inactive or gone; returns how many. */
  async sweep(): Promise<number> {
    const byUser = new Map<number, Socket[]>();
    for (const socket of this.server?.sockets.sockets.values() ?? []) {
      const id = socketUser(socket)?.id;
      if (id === undefined) continue;
      const list = byUser.get(id);
      if (list) list.push(socket);
      else byUser.set(id, [socket]);
    }
    const ids = [...byUser.keys()];
    let disconnected = 0;
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
      const batch = ids.slice(start, start + IDS_PER_QUERY);
      const active = await this.users.activeAmong(batch);
      for (const id of batch) {
        if (active.has(id)) continue;
        for (const socket of byUser.get(id)!) {
          socket.disconnect(true);
          disconnected += 1;
        }
        this.logger.log(`Disconnected the sockets of user ${id}: inactive or deleted`);
      }
    }
    return disconnected;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.sweeping = this.sweep().then(
        () => {
          if (this.failing) this.logger.log('Deactivation checks work again');
          this.failing = false;
        },
        (error: unknown) => {
          // Once per outage: the database being down is logged elsewhere too.
          if (!this.failing) {
            this.logger.warn(`Deactivation check failed: ${(error as Error).message}`);
          }
          this.failing = true;
        },
      );
      void this.sweeping.finally(() => this.schedule());
    }, SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  /** Per-socket middleware: an event from a user no longer active is refused and the socket closed. */
  private refuseInactive(socket: Socket): Parameters<Socket['use']>[0] {
    return (event, next) => {
      const user = socketUser(socket);
      if (!user) {
        next();
        return;
      }
      this.users.findActive(user.id).then(
        (found) => {
          if (found) {
            next();
            return;
          }
          const ack: unknown = event.at(-1);
          if (typeof ack === 'function')
            (ack as (reply: { error: string }) => void)({ error: 'unauthorized' });
          socket.disconnect(true);
        },
        // The database could not say: the handler runs, and answers its own error if it cannot
        // reach the database either.
        () => next(),
      );
    };
  }
}
