import { performance } from 'node:perf_hooks';
import { io, Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  NotificacionMensajeEvent,
  ServerToClientEvents,
} from '../../src/notifications/events';
import { SOCKET_PATH } from '../../src/websocket/socket-path';
import { progress } from './log';
import type { BenchUser } from './tokens';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A connected client socket and the user it authenticated as. */
export interface UserSocket {
  userId: number;
  socket: ClientSocket;
}

/** A pool of connected client sockets, with what connecting them cost. */
export interface SocketPool {
  sockets: UserSocket[];
  /** Per-socket time from `io()` to `connect`, ms. */
  connectMs: number[];
  /** Wall time to connect all of them, ms. */
  elapsedMs: number;
  failures: number;
  firstError?: string;
  /** How many dropped after connecting (counted until `close`). */
  disconnects(): number;
  close(): void;
}

export interface ConnectOptions {
  /** Handshakes in flight at once. */
  inFlight?: number;
  timeoutMs?: number;
  /** Called for every `notificacion_mensaje` any socket of the pool receives. */
  onMessage?: (userId: number, event: NotificacionMensajeEvent, receivedAt: number) => void;
  label?: string;
}

function connectOne(
  url: string,
  user: BenchUser,
  timeoutMs: number,
): Promise<{ socket: ClientSocket; ms: number }> {
  const start = performance.now();
  const socket: ClientSocket = io(url, {
    path: SOCKET_PATH,
    auth: { token: user.token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`socket of user ${user.id} did not connect within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({ socket, ms: performance.now() - start });
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
  });
}

/**
 * Connects one socket per user (websocket transport, as a browser would after the upgrade),
 * keeping at most `inFlight` handshakes open at once.
 */
export async function connectSockets(
  url: string,
  users: readonly BenchUser[],
  options: ConnectOptions = {},
): Promise<SocketPool> {
  const inFlight = options.inFlight ?? 50;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const sockets: UserSocket[] = [];
  const connectMs: number[] = [];
  let failures = 0;
  let firstError: string | undefined;
  let dropped = 0;
  let closing = false;
  const report = progress(options.label ?? 'sockets connected', users.length, 2000);
  let next = 0;
  let settled = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < users.length) {
      const user = users[next++];
      try {
        const { socket, ms } = await connectOne(url, user, timeoutMs);
        connectMs.push(ms);
        const onMessage = options.onMessage;
        if (onMessage) {
          socket.on('notificacion_mensaje', (event) =>
            onMessage(user.id, event, performance.now()),
          );
        }
        socket.on('disconnect', () => {
          if (!closing) dropped += 1;
        });
        sockets.push({ userId: user.id, socket });
      } catch (error) {
        failures += 1;
        firstError ??= (error as Error).message;
      }
      report(++settled);
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, users.length) }, worker));
  return {
    sockets,
    connectMs,
    elapsedMs: performance.now() - started,
    failures,
    firstError,
    disconnects: () => dropped,
    close: () => {
      closing = true;
      for (const { socket } of sockets) socket.close();
    },
  };
}
