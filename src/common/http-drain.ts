import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { SOCKET_PATH } from '../websocket/socket-path';

/**
 * How long a shutdown waits for requests in flight. Below the 30 s an orchestrator usually
 * grants between SIGTERM and SIGKILL (docker compose's `stop_grace_period` here). A request
 * waiting on the database is answered within its own bound (8 s), so this drains even those.
 */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The hard deadline after SIGTERM or SIGINT: the process exits (code 1) once this has passed,
 * whatever is still stuck in closing (a pool waiting for a connection, a Redis quit, a socket).
 * The drain's 10 s plus 10 s for closing sockets, Redis and the pool, and still 10 s under
 * compose's 30 s `stop_grace_period`, so the process ends by itself, logging why, before SIGKILL.
 */
export const SHUTDOWN_DEADLINE_MS = 20_000;

/**
 * Drains HTTP on shutdown, before anything closes (Nest closes Socket.IO, the HTTP server and
 * then the pools only after this hook): stops accepting connections, answers requests that
 * still arrive on kept-alive connections with `Connection: close`, and waits for the requests in
 * flight to finish, so none of them meets a closed pool. Without it a client that keeps its
 * connection busy (a load balancer's keep-alive, a poller) holds the process up indefinitely,
 * and requests in flight at the end fail.
 *
 * Socket.IO connections are left to Nest, which then closes them at the transport: clients see
 * `transport close` and reconnect by themselves, through the load balancer, to another instance.
 */
@Injectable()
export class HttpDrain implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(HttpDrain.name);
  private server?: Server;
  private inFlight = 0;
  private draining = false;
  private idle?: () => void;

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  onApplicationBootstrap(): void {
    // Undefined in an application context without HTTP (the CLI).
    this.server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    this.server?.prependListener('request', (request, response) => this.track(request, response));
  }

  async beforeApplicationShutdown(): Promise<void> {
    const server = this.server;
    if (!server || this.draining) return;
    this.draining = true;
    // Stops listening; Node also closes the connections idle right now.
    server.close();
    if (this.inFlight > 0) {
      this.logger.log(`Draining: waiting for ${this.inFlight} requests in flight`);
      let timer: NodeJS.Timeout | undefined;
      const drained = await Promise.race([
        new Promise<true>((resolve) => {
          this.idle = () => resolve(true);
        }),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!drained) {
        this.logger.warn(
          `Drain timed out after ${DRAIN_TIMEOUT_MS} ms with ${this.inFlight} requests in flight`,
        );
      }
    }
    server.closeIdleConnections();
    this.logger.log('Drained: no HTTP requests in flight');
  }

  private track(request: IncomingMessage, response: ServerResponse): void {
    if (this.draining) response.setHeader('Connection', 'close');
    // Socket.IO's long-polling requests are held open on purpose; closing Socket.IO ends them.
    if (request.url?.startsWith(SOCKET_PATH)) return;
    this.inFlight += 1;
    response.once('close', () => {
      this.inFlight -= 1;
      if (this.inFlight === 0) this.idle?.();
    });
  }
}
