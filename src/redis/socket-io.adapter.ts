import { INestApplicationContext, Logger } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions } from 'socket.io';
import { RedisService } from './redis.service';

/**
 * Whether a handshake may go on, by its `Origin`: none (not a browser: the CLI, other services,
 * tests), the page's own origin (a page this service serves), or one listed in `CORS_ORIGINS`.
 * A browser page elsewhere is refused, so it cannot open a socket with a token it got hold of.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowed: string[],
): boolean {
  if (origin === undefined) return true;
  if (allowed.includes(origin)) return true;
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/**
 * Socket.IO on the HTTP server, with the contract's CORS origins and, when `REDIS_URL` is set,
 * the Redis adapter that carries every room emit to the sockets of every instance.
 */
export class SocketIoAdapter extends IoAdapter {
  private readonly outageLogger = new Logger(SocketIoAdapter.name);

  constructor(
    app: INestApplicationContext,
    private readonly corsOrigins: string[],
    private readonly redis: RedisService,
  ) {
    super(app);
  }

  /**
   * After a Redis outage the sockets here stayed connected but missed what other instances
   * emitted meanwhile, and nothing would replay it. Closing their transport (not a Socket.IO
   * disconnect, which clients do not retry) makes every client reconnect by itself, with the
   * `since` of its last notification, and catch up.
   */
  private reconnectEveryone(server: Server): void {
    const sockets = [...server.of('/').sockets.values()];
    if (sockets.length === 0) return;
    this.outageLogger.log(
      `Redis is back: ${sockets.length} sockets reconnect to catch up on what they missed`,
    );
    for (const socket of sockets) socket.conn.close();
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...(options as ServerOptions),
      cors:
        this.corsOrigins.length > 0 ? { origin: this.corsOrigins, credentials: true } : undefined,
      // A mark_read of 1,000 ids is about 16 KB; nothing a client sends needs more.
      maxHttpBufferSize: 64 * 1024,
      // CORS alone does not protect sockets: browsers send any page's WebSocket handshake.
      allowRequest: (request, callback) => {
        const allowed = originAllowed(
          request.headers.origin,
          request.headers.host,
          this.corsOrigins,
        );
        callback(allowed ? null : 'origin not allowed', allowed);
      },
    });
    const connections = this.redis.connections();
    if (connections) {
      server.adapter(createAdapter(connections.pub, connections.sub));
      this.redis.onResubscribed(() => this.reconnectEveryone(server));
    }
    return server;
  }
}
