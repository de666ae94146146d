import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { Server as HttpServer } from 'node:http';
import type { Server } from 'socket.io';
import { SOCKET_SERVER } from './socket-server';
import { capWaitingSessions } from './waiting-sessions';

/**
 * Hands Nest the Socket.IO server the app bound (SOCKET_SERVER), attached to the HTTP server,
 * instead of a new one: the gateway, the publisher and the metrics then share one server.
 */
export class SocketIoAdapter extends IoAdapter {
  constructor(private readonly app: INestApplicationContext) {
    super(app);
  }

  override createIOServer(port: number): Server {
    if (port !== 0 || !this.httpServer) {
      throw new Error('Socket.IO is served on the HTTP server only (no gateway port)');
    }
    const server = this.app.get<Server>(SOCKET_SERVER).attach(this.httpServer as HttpServer);
    capWaitingSessions(server);
    return server;
  }
}
