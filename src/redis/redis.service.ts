import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import Redis from 'ioredis';
import { AppConfig } from '../config/configuration';

/**
 * The Redis connections that join instances (when `REDIS_URL` is set): one to publish, one to
 * subscribe. ioredis reconnects forever and resubscribes by itself; every client has an error
 * listener, so Redis going away is logged, never a crash.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  private clients?: { pub: Redis; sub: Redis };

  constructor(private readonly config: ConfigService<AppConfig, true>) {}

  get enabled(): boolean {
    return this.config.get('redisUrl', { infer: true }) !== undefined;
  }

  /** The publish and subscribe clients, created on first use; undefined without `REDIS_URL`. */
  connections(): { pub: Redis; sub: Redis } | undefined {
    const url = this.config.get('redisUrl', { infer: true });
    if (url === undefined) return undefined;
    if (!this.clients) {
      const pub = this.client(url, 'publisher');
      this.clients = { pub, sub: this.client(url, 'subscriber') };
    }
    return this.clients;
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
    await Promise.allSettled([pub.quit(), sub.quit()]);
  }

  private client(url: string, role: string): Redis {
    const client = new Redis(url, {
      // Emits while Redis is down fail at once instead of queueing without bound (the database
      // has every notification; clients catch up). Subscriptions must queue until connected.
      enableOfflineQueue: role === 'subscriber',
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
      connectionName: `notificaciones-${role}`,
    });
    let down = false;
    client.on('error', (error: Error) => {
      if (!down) this.logger.warn(`Redis ${role}: ${error.message}`);
      down = true;
    });
    client.on('ready', () => {
      if (down) this.logger.log(`Redis ${role} is back`);
      down = false;
    });
    return client;
  }
}
