import { Logger } from '@nestjs/common';
import { createAdapter as createClusterAdapter } from '@socket.io/cluster-adapter';
import { createAdapter } from '@socket.io/redis-adapter';
import { Server } from 'socket.io';
import type { ResolvedNotificationsOptions } from '../notifications/notifications.options';
import { RedisService } from '../redis/redis.service';
import { originAllowed } from './origin-policy';
import { SOCKET_PATH } from './socket-path';
import { CONNECT_TIMEOUT_MS } from './waiting-sessions';

/**
 * The Socket.IO server, bound by the app (WebSocketModule) and injected by whoever emits to
 * rooms or counts sockets. A process that does not bind it (the command line) has no sockets.
 */
export const SOCKET_SERVER = Symbol('SOCKET_SERVER');

const logger = new Logger('SocketServer');

/**
 * After a Redis outage the sockets here stayed connected but missed what other instances
 * emitted meanwhile, and nothing would replay it. Closing their transport (not a Socket.IO
 * disconnect, which clients do not retry) makes every client reconnect by itself, with the
 * `since` of its last notification, and catch up.
 */
function reconnectEveryone(server: Server): void {
  const sockets = [...server.of('/').sockets.values()];
  if (sockets.length === 0) return;
  logger.log(`Redis is back: ${sockets.length} sockets reconnect to catch up on what they missed`);
  for (const socket of sockets) socket.conn.close();
}

/**
 * Socket.IO at the contract's path, with the browser-origin policy and CORS origins, and the
 * adapter that carries every room emit to the sockets of other processes: Redis when
 * `REDIS_URL` is set (every instance, and the workers of each), else in a cluster worker the
 * cluster adapter (the other workers of this machine, through the primary). Not listening yet:
 * SocketIoAdapter attaches it to the HTTP server.
 */
export function createSocketServer(
  {
    corsOrigins,
    clusterWorker,
  }: Pick<ResolvedNotificationsOptions, 'corsOrigins' | 'clusterWorker'>,
  redis: RedisService,
): Server {
  const server = new Server({
    path: SOCKET_PATH,
    cors: corsOrigins.length > 0 ? { origin: corsOrigins, credentials: true } : undefined,
    // A mark_read of 1,000 ids is about 16 KB; nothing a client sends needs more.
    maxHttpBufferSize: 64 * 1024,
    // A session that never connects (Socket.IO's default waits 45 s) holds a file descriptor.
    connectTimeout: CONNECT_TIMEOUT_MS,
    allowRequest: (request, callback) => {
      const allowed = originAllowed(request.headers.origin, request.headers.host, corsOrigins);
      callback(allowed ? null : 'origin not allowed', allowed);
    },
  });
  const connections = redis.connections();
  if (connections) {
    server.adapter(createAdapter(connections.pub, connections.sub));
    redis.onResubscribed(() => reconnectEveryone(server));
  } else if (clusterWorker) {
    server.adapter(createClusterAdapter());
  }
  return server;
}
