import { io } from 'socket.io-client';
import type { NotificacionMensajeEvent } from '../../src/notifications/events';
import { ClientSocket } from './socket-client';
import { waitFor } from './wait';
import { SOCKET_PATH } from '../../src/websocket/socket-path';

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
      path: SOCKET_PATH,
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
