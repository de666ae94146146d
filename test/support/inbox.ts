import { io } from 'socket.io-client';
import type { NotificacionMensajeEvent, UnreadCountEvent } from '../../src/notifications/events';
import { ClientSocket } from '../factories';
import { waitFor } from './wait';

/**
 * A connected socket that records what it receives from the first packet on, so a test can
 * wait for a later event and then count what arrived before it (exactly once, never).
 */
export class Inbox {
  readonly messages: NotificacionMensajeEvent[] = [];
  readonly unreadCounts: number[] = [];

  constructor(readonly socket: ClientSocket) {
    socket.on('notificacion_mensaje', (event) => this.messages.push(event));
    socket.on('unread_count', (event: UnreadCountEvent) =>
      this.unreadCounts.push(event.unread_count),
    );
  }

  /** How many times a notification with this `mensaje` arrived. */
  count(mensaje: string): number {
    return this.messages.filter((event) => event.message === mensaje).length;
  }

  /** The ids of the notifications received, in order of arrival. */
  ids(): number[] {
    return this.messages.map((event) => event.notificacion.id);
  }

  /** Resolves once a notification with this `mensaje` has arrived. */
  async waitForMessage(mensaje: string, timeoutMs = 5000): Promise<NotificacionMensajeEvent> {
    return waitFor(
      `"${mensaje}" on a socket`,
      () => this.messages.find((event) => event.message === mensaje),
      { timeoutMs, intervalMs: 10 },
    );
  }

  /** Resolves once an `unread_count` with this value has arrived. */
  async waitForUnreadCount(value: number, timeoutMs = 5000): Promise<void> {
    await waitFor(`unread_count ${value} on a socket`, () => this.unreadCounts.includes(value), {
      timeoutMs,
      intervalMs: 10,
    });
  }

  close(): void {
    this.socket.close();
  }
}

/** Connects (websocket transport, no reconnection) and records from the first packet on. */
export async function openInbox(
  url: string,
  auth: { token: string; since?: number },
  options: { extraHeaders?: Record<string, string> } = {},
): Promise<Inbox> {
  // Not connected until the listeners are on: the catch-up and unread_count that follow the
  // handshake can arrive in the same tick as `connect`.
  const socket: ClientSocket = io(url, {
    path: '/ws/notificaciones/',
    auth,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    autoConnect: false,
    extraHeaders: options.extraHeaders,
  });
  const inbox = new Inbox(socket);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('socket did not connect in time'));
    }, 5000);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    });
    socket.connect();
  });
  return inbox;
}

/**
 * A client as a browser runs it: socket.io reconnects it by itself, and each attempt presents
 * the id of the newest notification it has seen (`auth` as a function), so it catches up.
 */
export class ReconnectingClient {
  readonly messages: NotificacionMensajeEvent[] = [];
  readonly disconnects: string[] = [];
  connects = 0;
  lastSeen: number;
  readonly socket: ClientSocket;

  constructor(url: string, token: string, since = 0) {
    this.lastSeen = since;
    this.socket = io(url, {
      path: '/ws/notificaciones/',
      auth: (callback) => callback({ token, since: this.lastSeen }),
      transports: ['websocket'],
      reconnectionDelay: 100,
      reconnectionDelayMax: 300,
      forceNew: true,
    });
    this.socket.on('notificacion_mensaje', (event) => {
      this.messages.push(event);
      this.lastSeen = Math.max(this.lastSeen, event.notificacion.id);
    });
    this.socket.on('connect', () => (this.connects += 1));
    this.socket.on('disconnect', (reason) => this.disconnects.push(reason));
  }

  /** Resolves once connected `times` times in all. */
  async connected(times = 1, timeoutMs = 5000): Promise<void> {
    await waitFor(
      `connection number ${times}`,
      () => this.connects >= times && this.socket.connected,
      {
        timeoutMs,
        intervalMs: 10,
      },
    );
  }

  has(id: number): boolean {
    return this.messages.some((event) => event.notificacion.id === id);
  }

  close(): void {
    this.socket.close();
  }
}
