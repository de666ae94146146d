import { createConnection, createServer, Server, Socket } from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of a real server (PostgreSQL, or an app, standing
 * in for a load balancer). `cut()` closes every connection through it and every new one, as a
 * database that went away would; `restore()` lets connections through again; `hold()` stalls
 * them; `drop()` loses what they carry. The listening port stays the same throughout, so clients
 * keep their configured address.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private cutOff = false;
  private holding = false;
  private holdingReplies = false;
  private replyMarker?: Buffer;
  private dropping = false;
  private replyDelayMs = 0;
  private dropTimer?: NodeJS.Timeout;
  private dropped = 0;
  /** Data (or, as null, the end of the stream) waiting while held, in order. */
  private held: Array<{ to: Socket; chunk: Buffer | null }> = [];

  private constructor(
    private readonly server: Server,
    private target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server, target);
    server.on('connection', (client) => proxy.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  /** A proxy in front of the run's test database (`databaseUrlThrough` reaches it). */
  static toTestDatabase(): Promise<TcpProxy> {
    const target = new URL(process.env.DATABASE_URL!);
    return TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
  }

  get port(): number {
    return (this.server.address() as { port: number }).port;
  }

  /** Closes every open connection, and every new one as it comes, until `restore()`. */
  cut(): void {
    this.cutOff = true;
    this.held = [];
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  /** Ends `cut()` and `drop()`: connections go through again. */
  restore(): void {
    this.cutOff = false;
    this.dropping = false;
    clearTimeout(this.dropTimer);
  }

  /**
   * Silently discards every byte, both ways, on open and new connections alike, keeping them
   * open (no reset, no FIN): a peer gone without a word (failover, NAT expiry, a hung pooler),
   * or replies lost on the wire. For `forMs` when given, else until `restore()`. What was
   * discarded is gone: a connection that lost part of a conversation stays out of step.
   */
  drop(forMs?: number): void {
    this.dropping = true;
    clearTimeout(this.dropTimer);
    if (forMs !== undefined) this.dropTimer = setTimeout(() => this.restore(), forMs);
  }

  /** How many bytes `drop()` has discarded so far. */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** Keeps connections open but forwards nothing until `release()`: a server that stalls. */
  hold(): void {
    this.holding = true;
  }

  /**
   * Forwards requests but keeps every reply until `release()`: the server does the work (a
   * statement runs and commits) while the client hears nothing, as when a reply is lost.
   */
  holdReplies(): void {
    this.holdingReplies = true;
  }

  /**
   * Like `holdReplies()`, from the moment a request carrying `marker` goes through (that
   * request included): a statement with that text runs, and nothing the server says from then
   * on, on any connection, reaches the client.
   */
  holdRepliesAfter(marker: string): void {
    this.replyMarker = Buffer.from(marker);
  }

  /**
   * Forwards every reply `ms` late, in order (0: at once again): a database that answers, but
   * slowly, as an overloaded server or a long network path does.
   */
  delayReplies(ms: number): void {
    this.replyDelayMs = ms;
  }

  /** How many bytes are waiting to be forwarded while held. */
  get heldBytes(): number {
    return this.held.reduce((sum, { chunk }) => sum + (chunk?.length ?? 0), 0);
  }

  /** Forwards what was held, in order, and everything from now on. */
  release(): void {
    this.holding = false;
    this.holdingReplies = false;
    this.replyMarker = undefined;
    for (const { to, chunk } of this.held.splice(0)) {
      if (to.destroyed) continue;
      if (chunk === null) to.end();
      else to.write(chunk);
    }
  }

  /** Sends new connections to another server (open ones stay where they are). */
  retarget(target: { host: string; port: number }): void {
    this.target = target;
  }

  async close(): Promise<void> {
    clearTimeout(this.dropTimer);
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.cutOff) {
      client.destroy();
      return;
    }
    const upstream = createConnection(this.target);
    for (const [from, to, isReply] of [
      [client, upstream, false],
      [upstream, client, true],
    ] as const) {
      this.sockets.add(from);
      const forward = (chunk: Buffer | null): void => {
        if (!isReply && chunk && this.replyMarker && chunk.includes(this.replyMarker)) {
          this.holdingReplies = true;
          this.replyMarker = undefined;
        }
        if (this.dropping) this.dropped += chunk?.length ?? 0;
        else if (isReply && this.replyDelayMs > 0) {
          setTimeout(() => {
            if (to.destroyed) return;
            if (chunk === null) to.end();
            else to.write(chunk);
          }, this.replyDelayMs);
        } else if (this.holding || (isReply && this.holdingReplies)) this.held.push({ to, chunk });
        else if (chunk === null) to.end();
        else to.write(chunk);
      };
      from.on('data', forward);
      from.on('end', () => forward(null));
      from.on('error', () => to.destroy());
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
    }
  }
}

/** The test database's URL, but reached through `proxy` (same database name and user). */
export function databaseUrlThrough(proxy: TcpProxy): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.hostname = '127.0.0.1';
  url.port = String(proxy.port);
  return url.toString();
}
