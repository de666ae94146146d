import type { IncomingMessage } from 'node:http';
import type { Server } from 'socket.io';

/**
 * The most transport sessions one peer address may hold open before their Socket.IO connect.
 * A client connects within milliseconds of opening its session, so even thousands of clients
 * reconnecting at once through one proxy keep few waiting; 20,000 sessions opened and left
 * waiting (each a file descriptor until the connect timeout) made every request fail.
 */
export const WAITING_SESSIONS_PER_ADDRESS = 1000;
/** How long a session may wait for its Socket.IO connect before it is closed. */
export const CONNECT_TIMEOUT_MS = 10_000;

const ADDRESS = Symbol('waiting session address');
type Tagged = IncomingMessage & { [ADDRESS]?: string };

/**
 * Bounds the sessions each peer address holds waiting for their Socket.IO connect: past
 * WAITING_SESSIONS_PER_ADDRESS a new one is refused (HTTP 403, as any refused handshake), and
 * one stops counting when its socket connects or it closes. Call once the server is attached
 * (its engine exists then); it wraps the engine's `allowRequest`, which the engine consults for
 * every new session and never for a session's later requests.
 */
export function capWaitingSessions(server: Server, max = WAITING_SESSIONS_PER_ADDRESS): void {
  const waiting = new Map<string, number>();
  const release = (address: string): void => {
    const left = (waiting.get(address) ?? 1) - 1;
    if (left > 0) waiting.set(address, left);
    else waiting.delete(address);
  };
  const engine = server.engine;
  const allow = engine.opts.allowRequest;
  engine.opts.allowRequest = (request: Tagged, callback) => {
    const admit = (): void => {
      const address = request.socket.remoteAddress ?? '';
      const count = waiting.get(address) ?? 0;
      if (count >= max) {
        callback('too many connections waiting from this address', false);
        return;
      }
      waiting.set(address, count + 1);
      request[ADDRESS] = address;
      callback(null, true);
    };
    if (!allow) {
      admit();
      return;
    }
    allow(request, (error, success) => (success ? admit() : callback(error, false)));
  };
  engine.on(
    'connection',
    (connection: { request: Tagged; once(event: 'close', fn: () => void): void }) => {
      const address = connection.request[ADDRESS];
      if (address === undefined) return;
      let counted = true;
      const done = (): void => {
        if (!counted) return;
        counted = false;
        release(address);
      };
      connection.once('close', done);
      (connection as unknown as { [ADDRESS]: () => void })[ADDRESS] = done;
    },
  );
  server.on('connection', (socket) => {
    (socket.conn as unknown as { [ADDRESS]?: () => void })[ADDRESS]?.();
  });
}
