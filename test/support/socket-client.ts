import { io, Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  NotificacionMensajeEvent,
  ServerToClientEvents,
} from '../../src/notifications/events';
import { SOCKET_PATH } from '../../src/websocket/socket-path';

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

type ServerEvent = keyof ServerToClientEvents;
type Payload<E extends ServerEvent> = Parameters<ServerToClientEvents[E]>[0];

// Pushes come from the delivery leader, which may still be taking over from a previous test
// file's app on a loaded machine; tests of a contract bound pass that bound explicitly.
const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * A connected socket.io-client socket (websocket transport, no reconnection); rejects with the
 * server's `connect_error` message when the handshake is refused. `prepare` runs before the
 * handshake starts, so listeners it adds miss nothing that follows it.
 */
export function connectSocket(
  url: string,
  auth: Record<string, unknown> | undefined,
  options: {
    extraHeaders?: Record<string, string>;
    query?: Record<string, string>;
    timeoutMs?: number;
    prepare?: (socket: ClientSocket) => void;
  } = {},
): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, {
    path: SOCKET_PATH,
    auth,
    query: options.query,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    autoConnect: false,
    extraHeaders: options.extraHeaders,
  });
  options.prepare?.(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('socket did not connect in time'));
    }, options.timeoutMs ?? 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.connect();
  });
}

/** The next `event` on the socket, or a rejection after `timeoutMs`. */
export function nextEvent<E extends keyof ServerToClientEvents>(
  socket: ClientSocket,
  event: E,
  timeoutMs = 5000,
): Promise<Parameters<ServerToClientEvents[E]>[0]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, listener as never);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: Parameters<ServerToClientEvents[E]>[0]) => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, listener as never);
  });
}

/**
 * A client socket that records every server event from before `connect` fires: an event that
 * arrives in the same tick as `connect` is never lost to a listener attached too late, and the
 * order of arrival stays available to prove that something did NOT arrive before a later event.
 */
export class RecordedSocket {
  private readonly received: Array<{ event: string; payload: unknown }> = [];
  private readonly wakers = new Set<() => void>();

  constructor(readonly socket: ClientSocket) {
    socket.onAny((event: string, payload: unknown) => {
      this.received.push({ event, payload });
      this.wake();
    });
    socket.on('disconnect', () => this.wake());
  }

  /** Every `event` received so far, oldest first. */
  all<E extends ServerEvent>(event: E): Array<Payload<E>> {
    return this.received
      .filter((entry) => entry.event === event)
      .map((entry) => entry.payload as Payload<E>);
  }

  /** The names of every event received so far, in order. */
  eventNames(): string[] {
    return this.received.map((entry) => entry.event);
  }

  /** Every `notificacion_mensaje` received so far, in order of arrival. */
  get messages(): NotificacionMensajeEvent[] {
    return this.all('notificacion_mensaje');
  }

  /** Every `unread_count` value received so far, in order of arrival. */
  get unreadCounts(): number[] {
    return this.all('unread_count').map((event) => event.unread_count);
  }

  /** The `notificacion.id` of every `notificacion_mensaje` received so far, in order. */
  ids(): number[] {
    return this.messages.map((message) => message.notificacion.id);
  }

  /** How many times a notification with this `mensaje` arrived. */
  count(mensaje: string): number {
    return this.messages.filter((message) => message.message === mensaje).length;
  }

  /** The first `event` (already received or still to come) that matches, or a timeout. */
  waitFor<E extends ServerEvent>(
    event: E,
    matches: (payload: Payload<E>) => boolean = () => true,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Payload<E>> {
    return this.until(
      () => this.all(event).find(matches),
      `no matching ${event} within ${timeoutMs} ms`,
      timeoutMs,
    );
  }

  /** The `notificacion_mensaje` for notification `id` (a number) or with this `mensaje`. */
  waitForMessage(
    idOrMensaje: number | string,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<NotificacionMensajeEvent> {
    return this.waitFor(
      'notificacion_mensaje',
      (message) =>
        typeof idOrMensaje === 'number'
          ? message.notificacion.id === idOrMensaje
          : message.message === idOrMensaje,
      timeoutMs,
    );
  }

  /** Resolves once an `unread_count` with this value has arrived. */
  async waitForUnreadCount(value: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    await this.waitFor('unread_count', (event) => event.unread_count === value, timeoutMs);
  }

  close(): void {
    this.socket.close();
  }

  /** Resolves once at least `count` `event`s have been received, with all of them. */
  waitForCount<E extends ServerEvent>(
    event: E,
    count: number,
    timeoutMs = DEFAULT_TIMEOUT_MS,
  ): Promise<Array<Payload<E>>> {
    return this.until(
      () => {
        const all = this.all(event);
        return all.length >= count ? all : undefined;
      },
      `fewer than ${count} ${event} within ${timeoutMs} ms (got ${this.all(event).length})`,
      timeoutMs,
    );
  }

  /** Re-evaluates `check` on every received event until it returns something. */
  private until<T>(check: () => T | undefined, failure: string, timeoutMs: number): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waker = (): void => {
        const value = check();
        if (value === undefined) return;
        cleanup();
        resolve(value);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(failure));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.wakers.delete(waker);
      };
      this.wakers.add(waker);
    });
  }

  private wake(): void {
    for (const waker of [...this.wakers]) waker();
  }
}

/** Every socket a test opened, so `closeSockets` in afterEach can close them all. */
const opened = new Set<ClientSocket>();

/**
 * Connects like `connectSocket` (websocket transport, no reconnection), recording events from
 * the first packet on. Rejects with the server's `connect_error`.
 */
export async function openSocket(
  url: string,
  auth: Record<string, unknown> | undefined,
  options: Omit<NonNullable<Parameters<typeof connectSocket>[2]>, 'prepare'> = {},
): Promise<RecordedSocket> {
  let recorded: RecordedSocket | undefined;
  await connectSocket(url, auth, {
    ...options,
    prepare: (socket) => {
      opened.add(socket);
      recorded = new RecordedSocket(socket);
    },
  });
  return recorded!;
}

/** Closes every socket opened through `openSocket` or `track`. */
export function closeSockets(): void {
  for (const socket of opened) socket.close();
  opened.clear();
}

/** Registers a socket opened elsewhere (e.g. `connectSocket`) for `closeSockets`. */
export function track(socket: ClientSocket): ClientSocket {
  opened.add(socket);
  return socket;
}

/** The `connect_error` message of a handshake that must be refused; fails if it connects. */
export async function refusal(
  url: string,
  auth: { token?: string; since?: number | string } | undefined,
  options: { extraHeaders?: Record<string, string> } = {},
): Promise<string> {
  let socket: ClientSocket;
  try {
    socket = await connectSocket(url, auth, options);
  } catch (error) {
    return (error as Error).message;
  }
  socket.close();
  throw new Error('the server accepted a handshake it had to refuse');
}

/** Resolves with the reason once the socket is disconnected, or rejects after `timeoutMs`. */
export function disconnection(
  socket: ClientSocket,
  timeoutMs = DEFAULT_TIMEOUT_MS,
): Promise<{ reason: string; at: number }> {
  return new Promise((resolve, reject) => {
    if (socket.disconnected) {
      resolve({ reason: 'already disconnected', at: Date.now() });
      return;
    }
    const timer = setTimeout(() => {
      socket.off('disconnect', listener);
      reject(new Error(`still connected after ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (reason: string): void => {
      clearTimeout(timer);
      resolve({ reason, at: Date.now() });
    };
    socket.once('disconnect', listener);
  });
}

/** `mark_read` over the socket with any body, valid or not; the acknowledgement. */
export function markReadSocket(socket: ClientSocket, body: unknown): Promise<unknown> {
  // Untyped on purpose: the point is to send what the typed event map forbids.
  const untyped = socket as unknown as {
    timeout(ms: number): { emitWithAck(event: string, ...args: unknown[]): Promise<unknown> };
  };
  return untyped.timeout(DEFAULT_TIMEOUT_MS).emitWithAck('mark_read', body);
}
