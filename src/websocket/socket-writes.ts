import type { Socket } from 'socket.io';

/**
 * What reaches one socket, in which order and how often, past what Socket.IO does itself.
 *
 * Replay before live: the contract lets a client reconnect with the highest id it holds as
 * `since`. Were a live notification to arrive before the replay of older missed ones, a client
 * that dropped in between would hold that newer id without the older ones, and its next
 * `since` would skip them for good. So from its room join until its `catch_up` is sent, what
 * the room brings a socket (notifications, counts, deletions) waits, and then follows the
 * replay in the order it came.
 *
 * Once per socket: a leader that dies between publishing and deleting what it published
 * leaves it for the next leader, which publishes it again. A socket that stayed connected
 * drops a `notificacion_mensaje` whose id it was sent recently (the last RECENT_IDS), and a
 * socket that reconnected drops the one its `since` says the client holds.
 *
 * Socket.IO has no outgoing middleware: room broadcasts are written to each socket's
 * connection by the adapter (`client.writeToEngine`, the same path for every adapter, and the
 * one a socket's own emits take), so this wraps that method on the socket's connection. Only
 * event packets are looked at; connect, disconnect and acknowledgement packets go as they are.
 */

/** Past this many held events a socket is sent away to reconnect and catch up instead. */
export const MOST_HELD_EVENTS = 10_000;
/** How many of the latest notification ids sent to a socket it remembers, to drop repeats. */
export const RECENT_IDS = 64;

type EncodedPackets = string | Buffer | Array<string | Buffer>;
interface EngineClient {
  writeToEngine: (this: EngineClient, packets: EncodedPackets, options: unknown) => void;
}
interface Writes {
  /** Events waiting for the catch-up, or undefined once it was sent. */
  held?: Array<[EncodedPackets, unknown]>;
  /** The socket's own emits (its first count, its replay) go past the hold. */
  direct: boolean;
  recent: Set<number>;
}

const WRITES = Symbol('socket writes');
type WatchedClient = EngineClient & { [WRITES]?: Writes };

/** Socket.IO's encoding starts with the packet type: 2 an event, 5 a binary event. */
function firstPacket(packets: EncodedPackets): string | undefined {
  const first = Array.isArray(packets) ? packets[0] : packets;
  return typeof first === 'string' && (first[0] === '2' || first[0] === '5') ? first : undefined;
}

const NOTIFICATION_EVENT = '2["notificacion_mensaje",';
/**
 * The notification's id in an encoded `notificacion_mensaje`: the first `"notificacion":{"id":`
 * outside any string (inside one every quote is escaped, so the text cannot fake it).
 */
const NOTIFICATION_ID = /"notificacion":\{"id":(\d+)/;

/**
 * Watches what is written to the socket's connection (see above), holding events until
 * `releaseEvents`. Call when the socket joins its room, with the id the client says it holds.
 */
export function watchWrites(socket: Socket, heldId?: number): void {
  const client = socket.client as unknown as WatchedClient;
  if (client[WRITES]) return;
  const writes: Writes = { held: [], direct: false, recent: new Set(heldId ? [heldId] : []) };
  client[WRITES] = writes;
  const write = (Object.getPrototypeOf(client) as EngineClient).writeToEngine;
  client.writeToEngine = function (
    this: EngineClient,
    packets: EncodedPackets,
    options: unknown,
  ): void {
    const event = firstPacket(packets);
    if (event === undefined) {
      write.call(this, packets, options);
      return;
    }
    if (writes.held && !writes.direct) {
      if (writes.held.length >= MOST_HELD_EVENTS) {
        writes.held = [];
        socket.conn.close();
        return;
      }
      writes.held.push([packets, options]);
      return;
    }
    if (event.startsWith(NOTIFICATION_EVENT) && isRepeat(writes.recent, packets, event)) return;
    write.call(this, packets, options);
  };
}

/**
 * The last packets looked at (by identity) and their id: a room broadcast writes one encoded
 * array to every socket of the room in turn, so each id is read once, not once per socket.
 */
let lastPackets: EncodedPackets | undefined;
let lastId: number | undefined;

/** True when this notification was sent to the socket lately; else remembers it. */
function isRepeat(recent: Set<number>, packets: EncodedPackets, event: string): boolean {
  if (packets !== lastPackets) {
    const match = NOTIFICATION_ID.exec(event);
    lastPackets = packets;
    lastId = match ? Number(match[1]) : undefined;
  }
  const id = lastId;
  if (id === undefined) return false;
  if (recent.has(id)) return true;
  recent.add(id);
  if (recent.size > RECENT_IDS) recent.delete(recent.values().next().value as number);
  return false;
}

/** Runs `send` with the socket's own emits going out at once (its replay, its first count). */
export function sendPastHold(socket: Socket, send: () => void): void {
  const writes = (socket.client as unknown as WatchedClient)[WRITES];
  if (!writes) {
    send();
    return;
  }
  writes.direct = true;
  try {
    send();
  } finally {
    writes.direct = false;
  }
}

/** Drops what waited (the socket is gone): nothing to write it to. */
export function discardHeld(socket: Socket): void {
  const writes = (socket.client as unknown as WatchedClient)[WRITES];
  if (writes) writes.held = undefined;
}

/** Ends the hold: what waited goes out now, in the order it came (repeats dropped). */
export function releaseEvents(socket: Socket): void {
  const client = socket.client as unknown as WatchedClient;
  const held = client[WRITES]?.held;
  if (!held) return;
  client[WRITES]!.held = undefined;
  for (const [packets, options] of held) client.writeToEngine(packets, options);
}
