import cluster, { Worker } from 'node:cluster';
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

/** What `@socket.io/sticky` sends a worker when it starts relaying a connection it keeps. */
interface RelayStart {
  type: 'sticky:http-chunk-start';
  socketInfo: { remoteAddress?: string; remotePort?: number };
}

function isRelayStart(message: unknown): message is RelayStart {
  return (message as { type?: unknown } | null)?.type === 'sticky:http-chunk-start';
}

const addressOf = (socket: { remoteAddress?: string; remotePort?: number }): string =>
  `${socket.remoteAddress}|${socket.remotePort}`;

/**
 * A request with a body stays on the primary's socket, its bytes relayed to a worker and back
 * over IPC. When that worker dies nothing answers it: the client waited until the primary's HTTP
 * server gave up on headers it never parsed itself (an empty 408 after about 90 s), and a
 * long-polling client whose POST hung could look connected meanwhile. So every relayed
 * connection is remembered with its worker (sticky says which in the message that starts the
 * relay, by the client's address and port) and closed when that worker exits: the client sees
 * the connection end at once, as it would if a single process had crashed, and reconnects.
 *
 * Sticky also tells a worker when a relayed client goes away, without a callback: to a worker
 * whose channel is closing, that send fails as an `error` event on the Worker, which nothing
 * handled, and it took the primary and every worker down. `onSendError` handles it.
 */
export function closeRelaysOfExitedWorkers(
  server: Server,
  onSendError: (worker: Worker, error: Error) => void,
): void {
  const open = new Map<string, Socket>();
  const relayed = new Map<Worker, Set<Socket>>();
  server.on('connection', (socket: Socket) => {
    const address = addressOf(socket);
    open.set(address, socket);
    socket.once('close', () => {
      if (open.get(address) === socket) open.delete(address);
    });
  });
  cluster.on('fork', (worker) => {
    worker.on('error', (error: Error) => onSendError(worker, error));
    const send = worker.send.bind(worker) as (...args: unknown[]) => boolean;
    worker.send = (message: unknown, ...rest: unknown[]) => {
      const socket = isRelayStart(message) ? open.get(addressOf(message.socketInfo)) : undefined;
      if (socket) {
        const sockets = relayed.get(worker) ?? new Set<Socket>();
        relayed.set(worker, sockets.add(socket));
        socket.once('close', () => sockets.delete(socket));
      }
      return send(message, ...rest);
    };
  });
  cluster.on('exit', (worker) => {
    for (const socket of relayed.get(worker) ?? []) socket.destroy();
    relayed.delete(worker);
  });
}
