import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import type { SendHandle } from 'node:child_process';
import type { Server as HttpServer } from 'node:http';
import { setupWorker } from '@socket.io/sticky';
import type { Server } from 'socket.io';

/** What a worker sends the primary once its app serves: from then on it counts as up. */
export const WORKER_READY = 'notificaciones:worker-ready';

/** Engine.IO session ids are this long; the primary's sticky routing finds them by it. */
const SESSION_ID_LENGTH = 20;

type Held = [message: unknown, handle: SendHandle];

function isStickyMessage(message: unknown): boolean {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('sticky:');
}

/**
 * Engine.IO session ids that start with this worker's number (`2-…`, as many random characters
 * as keep the length the sticky routing reads): a client's session id, in its logs or a
 * proxy's, names the worker that holds it. 96 random bits or more remain.
 */
function sessionIdsNamingWorker(io: Server, workerId: number): void {
  const prefix = `${workerId.toString(36)}-`;
  const random = SESSION_ID_LENGTH - prefix.length;
  io.engine.generateId = () =>
    prefix +
    randomBytes(Math.ceil((random * 3) / 4))
      .toString('base64url')
      .slice(0, random);
}

/**
 * Node enforces `headersTimeout` and `requestTimeout` (a request that never finishes arriving
 * gets 408) only on a server that listens; a worker's never does, the primary hands it
 * connections. Starts the same tracking that listening starts. Without it (a Node version that
 * names it otherwise) requests are served all the same, only without those two bounds.
 */
function enforceRequestTimeouts(server: HttpServer): void {
  const tracking = server
    .listeners('listening')
    .find((listener) => listener.name === 'setupConnectionsTracking');
  (tracking as ((this: HttpServer) => void) | undefined)?.call(server);
}

/**
 * The connections the primary hands this worker (see `@socket.io/sticky`), held from the
 * worker's first moment until its app can serve them. The primary routes to every forked
 * worker, a replacement still booting included, and a connection whose message arrives before
 * anyone listens for it would be lost: held here, it waits a few seconds instead.
 */
export class PrimaryConnections {
  private held: Held[] = [];
  private readonly hold = (message: unknown, handle: SendHandle) => {
    if (isStickyMessage(message)) this.held.push([message, handle]);
  };

  /** Starts holding: call first thing in a worker, before anything awaits. */
  constructor() {
    process.on('message', this.hold);
  }

  /**
   * Serves them from now on with `io`'s HTTP server (Socket.IO's and the app's), replays what
   * was held, in order, and tells the primary this worker is ready.
   */
  serve(io: Server): void {
    const worker = cluster.worker;
    if (!worker) throw new Error('PrimaryConnections.serve: not a cluster worker');
    const server = io.httpServer as HttpServer;
    sessionIdsNamingWorker(io, worker.id);
    enforceRequestTimeouts(server);
    setupWorker(io);
    process.off('message', this.hold);
    const held = this.held;
    this.held = [];
    for (const [message, handle] of held) process.emit('message', message, handle);
    process.send?.({ type: WORKER_READY });
  }
}
