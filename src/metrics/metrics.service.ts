import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { NextFunction, Request, Response } from 'express';
import type { Pool } from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DataSource } from 'typeorm';
import { pgPoolOf } from '../database/pg-pool';
import { SOCKET_SERVER } from '../websocket/socket-server';

/** What the gauge of connected sockets reads: the Socket.IO server's sockets on this instance. */
export interface SocketCounter {
  of(namespace: string): { sockets: { size: number } };
}

/** The label of requests no route handled: 404s, and bodies rejected before routing (400, 413). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The route template a request matched (`/notifications/api/list`), never its raw URL. A
 * wildcard is middleware mounted for every path (request logging), not a route.
 */
function routeOf(req: Request): string {
  const path = (req.route as { path?: unknown } | undefined)?.path;
  return typeof path === 'string' && !path.includes('*')
    ? `${req.baseUrl}${path}`
    : UNMATCHED_ROUTE;
}

/**
 * The Prometheus metrics of one app instance. Its own registry rather than prom-client's global
 * one, so that several apps in one process (the tests) do not collide. Values that already live
 * somewhere (sockets, the pg pool) are read at scrape time instead of being tracked.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly created: Counter;
  private readonly emits: Counter<'event'>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @Optional() @Inject(SOCKET_SERVER) sockets?: SocketCounter,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.created = new Counter({
      name: 'notificaciones_created_total',
      help: 'Notifications stored (counted once their transaction commits)',
      registers,
    });
    this.emits = new Counter({
      name: 'notificaciones_emits_total',
      help: 'Events emitted to user rooms, by event name',
      labelNames: ['event'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'http_request_duration_seconds',
      help: `HTTP request latency by method, route template and status ("${UNMATCHED_ROUTE}": no route)`,
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const connected: Gauge = new Gauge({
      name: 'notificaciones_connected_sockets',
      help: 'Authenticated Socket.IO connections on this instance',
      registers,
      collect: () => connected.set(sockets?.of('/').sockets.size ?? 0),
    });
    const pool = (): Pool | undefined =>
      dataSource.isInitialized ? pgPoolOf(dataSource) : undefined;
    const poolGauge = (name: string, help: string, read: (pool: Pool) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const current = pool();
          if (current) this.set(read(current));
        },
      });
    poolGauge(
      'db_pool_connections',
      'Open PostgreSQL connections in the pool',
      (p) => p.totalCount,
    );
    poolGauge('db_pool_idle_connections', 'Pool connections not in use', (p) => p.idleCount);
    poolGauge(
      'db_pool_waiting_clients',
      'Queries waiting for a pool connection (sustained > 0: the pool is too small)',
      (p) => p.waitingCount,
    );
    poolGauge('db_pool_max_connections', 'The pool size limit', (p) => p.options.max ?? 10);
  }

  /** Counts notifications that were stored. */
  notificationsCreated(count: number): void {
    if (count > 0) this.created.inc(count);
  }

  /** Counts one emit of `event` to a user room. */
  emitted(event: string): void {
    this.emits.inc({ event });
  }

  /**
   * Express middleware timing every request into the latency histogram. Mounted ahead of the
   * body parser, so that requests it rejects are measured too.
   */
  readonly httpMiddleware = (req: Request, res: Response, next: NextFunction): void => {
    const end = this.httpDuration.startTimer();
    res.once('finish', () => {
      end({ method: req.method, route: routeOf(req), status_code: String(res.statusCode) });
    });
    next();
  };

  /** The text exposition of every metric, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
