import type { Socket } from 'socket.io';

/**
 * Why a catching-up socket's room events wait: the contract lets a client reconnect with the
 * highest id it holds as `since`. Were a live notification to arrive before the replay of
 * older missed ones, a client that dropped in between would hold that newer id without the
 * older ones, and its next `since` would skip them for good. So from its room join until its
 * `catch_up` is sent, what the room brings a socket (notifications, counts, deletions) waits,
 * and then follows the replay in the order it came.
 *
 * Socket.IO has no outgoing middleware: room broadcasts are written to each socket's
 * connection by the adapter (`client.writeToEngine`, the same path for every adapter), so the
 * hold wraps that method on the socket's connection while it lasts. Only event packets wait;
 * the connect, disconnect and acknowledgement packets go at once.
 */

/** Past this many held events a socket is sent away to reconnect and catch up instead. */
export const MOST_HELD_EVENTS = 10_000;

type EncodedPackets = string | Buffer | Array<string | Buffer>;
interface EngineClient {
  writeToEngine: (this: EngineClient, packets: EncodedPackets, options: unknown) => void;
}
interface Hold {
  held: Array<[EncodedPackets, unknown]>;
  direct: boolean;
}

const HOLD = Symbol('held events');
type HoldingClient = EngineClient & { [HOLD]?: Hold };

/** Socket.IO's encoding starts with the packet type: 2 an event, 5 a binary event. */
function isEvent(packets: EncodedPackets): boolean {
  const first = Array.isArray(packets) ? packets[0] : packets;
  return typeof first === 'string' && (first[0] === '2' || first[0] === '5');
}

/** Starts holding the events the socket's rooms bring it (see above). */
export function holdEvents(socket: Socket): void {
  const client = socket.client as unknown as HoldingClient;
  if (client[HOLD]) return;
  const hold: Hold = { held: [], direct: false };
  client[HOLD] = hold;
  const write = (Object.getPrototypeOf(client) as EngineClient).writeToEngine;
  client.writeToEngine = function (
    this: EngineClient,
    packets: EncodedPackets,
    options: unknown,
  ): void {
    if (hold.direct || !isEvent(packets)) {
      write.call(this, packets, options);
      return;
    }
    if (hold.held.length >= MOST_HELD_EVENTS) {
      hold.held = [];
      socket.conn.close();
      return;
    }
    hold.held.push([packets, options]);
  };
}

/** Runs `send` with the socket's own emits going out at once (its replay, its first count). */
export function sendPastHold(socket: Socket, send: () => void): void {
  const hold = (socket.client as unknown as HoldingClient)[HOLD];
  if (!hold) {
    send();
    return;
  }
  hold.direct = true;
  try {
    send();
  } finally {
    hold.direct = false;
  }
}

/** Ends the hold: what waited goes out now, in the order it came. */
export function releaseEvents(socket: Socket): void {
  const client = socket.client as unknown as HoldingClient;
  const hold = client[HOLD];
  if (!hold) return;
  delete client[HOLD];
  // The prototype's method again.
  Reflect.deleteProperty(client, 'writeToEngine');
  for (const [packets, options] of hold.held) client.writeToEngine(packets, options);
}
