import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Server, ServerOptions } from 'socket.io';
import { RedisService } from './redis.service';

/**
 * Socket.IO on the HTTP server, with the contract's CORS origins and, when `REDIS_URL` is set,
 * the Redis adapter that carries every room emit to the sockets of every instance.
 */
export class SocketIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly corsOrigins: string[],
    private readonly redis: RedisService,
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): Server {
    const server = super.createIOServer(port, {
      ...(options as ServerOptions),
      cors:
        this.corsOrigins.length > 0 ? { origin: this.corsOrigins, credentials: true } : undefined,
      // A mark_read of 1,000 ids is about 16 KB; nothing a client sends needs more.
      maxHttpBufferSize: 64 * 1024,
    });
    const connections = this.redis.connections();
    if (connections) server.adapter(createAdapter(connections.pub, connections.sub));
    return server;
  }
}
