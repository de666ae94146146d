import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import {
  NOTIFICATIONS_OPTIONS,
  type ResolvedNotificationsOptions,
} from '../notifications/notifications.options';

/**
 * QUIT when connected (pending replies arrive first), else just drop the socket: a QUIT queued
 * behind a subscription waiting for Redis to return would hold shutdown forever.
 */
async function close(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.quit(),
    new Promise((resolve) => {
      timer = setTimeout(resolve, 1000);
    }),
  ]).finally(() => clearTimeout(timer));
  client.disconnect();
}

/**
 * The Redis connections that join instances (when `REDIS_URL` is set): one to publish, one to
 * subscribe. ioredis reconnects forever and resubscribes by itself; every client has an error
 * listener, so Redis going away is logged, never a crash.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  private clients?: { pub: Redis; sub: Redis };
  private closing = false;
  private readonly resubscribed = new Set<() => void>();

  private readonly url: string | undefined;

  constructor(@Inject(NOTIFICATIONS_OPTIONS) options: ResolvedNotificationsOptions) {
    this.url = options.redisUrl;
  }

  get enabled(): boolean {
    return this.url !== undefined;
  }

  /** The publish and subscribe clients, created on first use; undefined without `REDIS_URL`. */
  connections(): { pub: Redis; sub: Redis } | undefined {
    const url = this.url;
    if (url === undefined) return undefined;
    if (!this.clients) {
      const pub = this.client(url, 'publisher');
      this.clients = { pub, sub: this.client(url, 'subscriber') };
    }
    return this.clients;
  }

  /**
   * Calls `listener` each time the subscription is back after Redis was unreachable (not on the
   * first connection): from then on emits from other instances arrive again, but those sent
   * during the outage never will.
   */
  onResubscribed(listener: () => void): void {
    this.resubscribed.add(listener);
  }

  /** Round-trips a PING within `timeoutMs`; rejects when Redis does not answer. */
  async ping(timeoutMs = 1000): Promise<void> {
    const pub = this.connections()?.pub;
    if (!pub) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('Redis did not answer in time')), timeoutMs);
    });
    try {
      await Promise.race([pub.ping(), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves once the publisher is connected, or rejects after `timeoutMs`. */
  async ready(timeoutMs = 5000): Promise<void> {
    const pub = this.connections()?.pub;
    if (!pub || pub.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`Redis not reachable within ${timeoutMs} ms`)),
        timeoutMs,
      );
      pub.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.clients) return;
    const { pub, sub } = this.clients;
    this.clients = undefined;
    this.closing = true;
    await Promise.allSettled([close(pub), close(sub)]);
  }

  private client(url: string, role: 'publisher' | 'subscriber'): Redis {
    const subscriber = role === 'subscriber';
    const client = new Redis(url, {
      // Emits while Redis is down fail at once instead of queueing without bound (the database
      // has every notification; clients catch up). Subscriptions must queue until connected.
      enableOfflineQueue: subscriber,
      // A limit would flush the queued (p)subscribe of a start-up without Redis as an error:
      // never subscribed, that instance would silently get no emits from the others, ever.
      maxRetriesPerRequest: subscriber ? null : 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      connectionName: `notificaciones-${role}`,
      // CLIENT SETINFO only names the library in CLIENT LIST; Redis before 7.2 answers it with an
      // error, which this service's error listener reported as Redis being down.
      disableClientInfo: true,
    });
    let down = false;
    let failing = false;
    client.on('error', (error: Error) => {
      if (!down) this.logger.warn(`Redis ${role}: ${error.message}`);
      down = true;
    });
    // A connection lost without an error (Redis restarted quickly) is an outage all the same.
    client.on('close', () => {
      if (!this.closing) down = true;
    });
    client.on('ready', () => {
      if (!down) return;
      this.logger.log(`Redis ${role} is back`);
      down = false;
      failing = false;
      // ioredis resubscribes right after emitting `ready`; a PING queued behind those commands
      // answers once they have, and only then are emits from other instances arriving again.
      if (subscriber) {
        setImmediate(() => {
          client.ping().then(
            () => this.resubscribed.forEach((listener) => listener()),
            () => undefined,
          );
        });
      }
    });
    // The Socket.IO adapter publishes, subscribes and unsubscribes without handling the promise;
    // one rejected while Redis is down would be an unhandled rejection, which ends the process.
    // Marking every command's promise as handled keeps the process up; callers that await a
    // command still see its error.
    const send = client.sendCommand.bind(client);
    client.sendCommand = (...args: Parameters<Redis['sendCommand']>) => {
      const result = send(...args);
      if (result instanceof Promise) {
        result.catch((error: Error) => {
          if (failing || this.closing) return;
          failing = true;
          this.logger.warn(
            subscriber
              ? `Redis subscriber: ${error.message}`
              : `Redis publisher: emits to other instances are dropped until Redis is back ` +
                  `(clients catch up with since): ${error.message}`,
          );
        });
      }
      return result;
    };
    return client;
  }
}
