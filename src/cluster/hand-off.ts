import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/** The libuv stream behind a net.Socket (Node keeps it on `_handle`, with its `reading` flag). */
interface StreamHandle {
  reading: boolean;
  readStop(): number;
  readStart(): number;
}

function handleOf(socket: Socket): StreamHandle | undefined {
  return (socket as unknown as { _handle?: StreamHandle | null })._handle ?? undefined;
}

/**
 * `@socket.io/sticky` reads each connection's first request in the primary, then passes the
 * socket to a worker. Node closes the primary's copy of it only once the worker has acknowledged
 * it, and until then that copy is still reading: what the client sends right after the worker's
 * first answer (a WebSocket client's first frame, the Socket.IO CONNECT with its token) can be
 * read there and dropped, and the client waits for an answer until its timeout. Measured: 1 to
 * 4 WebSocket connections in 100, opened in a row. So the primary stops reading each connection
 * as soon as the first chunk is in, before sticky passes it on, and reads again only a
 * connection sticky keeps (a request with a body, which the primary relays to the worker).
 */
export function stopReadingOnHandOff(server: Server): void {
  // After sticky's own `connection` listener, which puts its `data` listener in place.
  server.on('connection', (socket: Socket) => {
    socket.prependOnceListener('data', () => {
      const handle = handleOf(socket);
      if (!handle) return;
      handle.reading = false;
      handle.readStop();
    });
    socket.once('data', () => {
      // Still ours: sticky kept the connection and relays it.
      const handle = handleOf(socket);
      if (!handle || handle.reading) return;
      handle.reading = true;
      handle.readStart();
    });
  });
}
