import { setupPrimary as setupClusterAdapter } from '@socket.io/cluster-adapter';
import { setupMaster as setupStickyRouting } from '@socket.io/sticky';
import cluster, { Worker } from 'node:cluster';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { SHUTDOWN_DEADLINE_MS } from '../common/http-drain';
import { cannotListen, listeningOn } from '../common/listening';
import { AppConfig } from '../config/configuration';
import { locateDatabase } from '../database/database-server';
import { EmbeddedPostgres } from '../database/embedded-postgres';
import { poolPerWorker } from '../database/pool-size';
import { createRootLogger } from '../logging/request-logging';
import { SOCKET_PATH } from '../websocket/socket-path';
import { answerMetricsRequests } from './cluster-metrics';
import { closeRelaysOfExitedWorkers, stopReadingOnHandOff } from './hand-off';
import { WORKER_READY } from './worker';

/** Worker exits closer together than this make a streak, and each one waits longer. */
const CRASH_STREAK_MS = 60_000;
const FIRST_RESTART_DELAY_MS = 500;
const LONGEST_RESTART_DELAY_MS = 30_000;

/**
 * How long to wait before replacing a worker that exited, given how many exited within the
 * last minute (this one included): 0.5 s, doubling with each, at most 30 s. A worker that
 * crashes now and then is replaced at once; one that crashes as it starts does not spin.
 */
export function restartDelay(recentExits: number): number {
  return Math.min(
    FIRST_RESTART_DELAY_MS * 2 ** Math.max(0, recentExits - 1),
    LONGEST_RESTART_DELAY_MS,
  );
}

/**
 * The primary's own deadline after SIGTERM: the workers' (`SHUTDOWN_DEADLINE_MS`, after which
 * each exits by itself) and the second each gives its log lines, then it kills what is left.
 */
const PRIMARY_DEADLINE_MS = SHUTDOWN_DEADLINE_MS + 1000;

function describeExit(code: number | null, signal: string | null): string {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}

/**
 * The primary process of `WORKERS` > 1. It serves no request itself: it holds the port, hands
 * each connection to a worker (`@socket.io/sticky`: every request of one Engine.IO session to
 * the worker that holds it, new ones in turn), relays the workers' emits to each other when
 * there is no Redis (`@socket.io/cluster-adapter`), starts the embedded PostgreSQL once for
 * all of them, replaces a worker that dies, and on SIGTERM drains them all.
 */
class ClusterPrimary {
  private readonly logger: Logger;
  private readonly server: Server = createServer();
  private readonly live = new Set<Worker>();
  private readonly ready = new Set<Worker>();
  private readonly exits: number[] = [];
  private readonly restarts = new Set<NodeJS.Timeout>();
  /** The database, once located (the embedded one started, when DATABASE_URL is unset). */
  private database?: Promise<EmbeddedPostgres>;
  private env: Record<string, string> = {};
  /** Every first worker was ready once: from then on a worker that dies is replaced. */
  private up = false;
  private stopping = false;
  private failed = false;
  private started?: { resolve: () => void; reject: (error: Error) => void };

  constructor(private readonly config: AppConfig) {
    this.logger = createRootLogger(config).child({ context: 'Cluster' });
  }

  async run(): Promise<void> {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => void this.stop(signal));
    }
    const { workers, dbPoolMax } = this.config;
    this.logger.info(
      `Starting ${workers} workers (${availableParallelism()} CPUs), each with ` +
        `${poolPerWorker(dbPoolMax, workers)} pooled PostgreSQL connections and one for the ` +
        `delivery leader (DB_POOL_MAX=${dbPoolMax})`,
    );
    // The embedded PostgreSQL is started once, here, and every worker is given its address.
    this.database = locateDatabase(this.config, {
      log: (message) => this.logger.info(message),
      warn: (message) => this.logger.warn(message),
    });
    const database = await this.database;
    if (database.owned) this.env = { DATABASE_URL: database.url };
    if (this.stopping) return;

    // Packets may hold Buffers: the advanced serialization keeps them as they are over IPC.
    cluster.setupPrimary({ serialization: 'advanced' });
    setupStickyRouting(this.server, { loadBalancingMethod: 'round-robin' });
    stopReadingOnHandOff(this.server);
    closeRelaysOfExitedWorkers(this.server, (worker, error) =>
      this.logger.warn(`Worker ${worker.id}: ${error.message} (it is exiting)`),
    );
    // With Redis the workers' Redis adapter carries emits everywhere, as between instances.
    if (this.config.redisUrl === undefined) setupClusterAdapter();
    answerMetricsRequests();
    cluster.on('message', (worker, message: { type?: unknown } | null) => {
      if (message?.type === WORKER_READY) this.onReady(worker);
    });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));

    try {
      await new Promise<void>((resolve, reject) => {
        this.started = { resolve, reject };
        for (let i = 0; i < workers; i += 1) this.fork();
      });
      this.up = true;
    } catch (error) {
      return this.stop((error as Error).message, 1);
    }
    if (this.stopping) return;
    await this.listen();
  }

  private fork(): void {
    const worker = cluster.fork(this.env);
    this.live.add(worker);
  }

  private onReady(worker: Worker): void {
    this.ready.add(worker);
    this.logger.info(`Worker ${worker.id} (pid ${worker.process.pid}) ready`);
    if (this.ready.size === this.config.workers) this.started?.resolve();
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    this.live.delete(worker);
    this.ready.delete(worker);
    const how = describeExit(code, signal);
    if (this.stopping) {
      const clean = code === 0 || signal === 'SIGTERM' || signal === 'SIGINT';
      if (!clean) this.failed = true;
      this.logger.info(`Worker ${worker.id} (pid ${worker.process.pid}) stopped (${how})`);
      if (this.live.size === 0) void this.finish();
      return;
    }
    if (!this.up) {
      // Before the service ever served, an exit is a start-up failure (the worker said why):
      // stop as a single process would, rather than retry a configuration that cannot work.
      this.started?.reject(new Error(`Worker ${worker.id} exited during start-up (${how})`));
      return;
    }
    const now = Date.now();
    this.exits.push(now);
    while (this.exits[0] < now - CRASH_STREAK_MS) this.exits.shift();
    const delay = restartDelay(this.exits.length);
    this.logger.error(
      `Worker ${worker.id} (pid ${worker.process.pid}) exited (${how}): starting another in ` +
        `${delay / 1000} s (${this.exits.length} exits in the last minute)`,
    );
    const timer = setTimeout(() => {
      this.restarts.delete(timer);
      if (!this.stopping) this.fork();
    }, delay);
    this.restarts.add(timer);
  }

  private async listen(): Promise<void> {
    const { port, host } = this.config;
    try {
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      process.stderr.write(cannotListen(host, port, error));
      return this.stop('cannot listen', 1);
    }
    this.logger.info(
      `Listening on ${listeningOn(this.server.address() as AddressInfo)} with ` +
        `${this.config.workers} workers (Socket.IO path ${SOCKET_PATH}, docs at /docs)`,
    );
  }

  /**
   * Stops taking connections and has every worker run its own graceful shutdown (SIGTERM:
   * drain HTTP, close sockets, Redis, the pool); the primary relays their last bytes meanwhile.
   * Exits 0 once every worker has stopped cleanly, 1 otherwise or at the deadline.
   */
  private async stop(why: string, code = 0): Promise<void> {
    if (code !== 0) this.failed = true;
    if (this.stopping) return;
    this.stopping = true;
    const log =
      code === 0 ? this.logger.info.bind(this.logger) : this.logger.error.bind(this.logger);
    log(`${why}: stopping ${this.live.size} workers`);
    for (const timer of this.restarts) clearTimeout(timer);
    this.restarts.clear();
    this.server.close();
    setTimeout(() => {
      this.logger.error(
        `Workers not stopped ${PRIMARY_DEADLINE_MS / 1000} s after ${why}: killing them`,
      );
      for (const worker of this.live) worker.process.kill('SIGKILL');
      this.exit(1);
    }, PRIMARY_DEADLINE_MS).unref();
    // Always SIGTERM: a worker that also got the terminal's SIGINT is already stopping, and a
    // second SIGINT would find no handler left and end it at once.
    for (const worker of this.live) worker.process.kill('SIGTERM');
    if (this.live.size === 0) await this.finish();
  }

  private async finish(): Promise<void> {
    // Still starting (SIGTERM during start-up): it is stopped once it has started.
    const database = await this.database?.catch(() => undefined);
    if (database?.owned) {
      try {
        await database.stop();
        this.logger.info('Embedded PostgreSQL stopped');
      } catch (error) {
        this.logger.error(`Stopping the embedded PostgreSQL failed: ${(error as Error).message}`);
        this.failed = true;
      }
    }
    this.exit(this.failed ? 1 : 0);
  }

  private exit(code: number): void {
    // Log lines are written asynchronously: let them out first, but not for long.
    setTimeout(() => process.exit(code), 1000).unref();
    this.logger.flush(() => process.exit(code));
  }
}

/** Runs the primary process of `WORKERS` > 1 (see ClusterPrimary). */
export function runPrimary(config: AppConfig): Promise<void> {
  return new ClusterPrimary(config).run();
}
