import { resolveJwtSecret } from '../auth/jwt-secret';
import type { AppConfig } from '../config/configuration';

/**
 * What the notifications domain needs from its host: everything but the database, which is the
 * host's TypeORM `DataSource`. Only `jwtSecret` has no default.
 */
export interface NotificationsOptions {
  /** The HS256 key bearer tokens are signed with (`sub` = user id, `exp` required). */
  jwtSecret: string;
  /** Joins instances (Socket.IO adapter, emits of every instance reach every socket). Unset: one instance. */
  redisUrl?: string;
  /** Browser origins allowed to call the API and open sockets from other sites. Default: none. */
  corsOrigins?: string[];
  /** Days notifications are kept by the daily 03:00 purge; 0 turns it off. Default: 30. */
  retentionDays?: number;
  /** HTTP requests (and socket handshakes) per user, or per address without a token, per minute; 0: no limit. Default: 120000. */
  httpRateLimitPerMinute?: number;
  /** Events (mark_read) each socket may send per minute; 0: no limit. Default: 600. */
  socketRateLimitPerMinute?: number;
  /** Open sockets per user on each instance. Default: 20. */
  maxSocketsPerUser?: number;
  /**
   * Which HTTP requests the rate limit counts: `notifications` (default) only this module's
   * routes (under /notifications/), `every-route` every route of the app (the standalone service,
   * whose other routes are its own).
   */
  httpRateLimitScope?: 'notifications' | 'every-route';
  /**
   * This process is a worker of a `node:cluster` primary that ran `setupPrimary()` from
   * `@socket.io/cluster-adapter` (the standalone service with WORKERS above 1): without
   * `redisUrl`, emits reach the other workers' sockets through the primary. With `redisUrl`,
   * Redis carries them, to every process on every host. Default: false.
   */
  clusterWorker?: boolean;
}

/** What is mounted: decided when the module is assembled, before any factory runs. */
export interface NotificationsMounts {
  /** The REST routes under /notifications/api/. Default: true. */
  http?: boolean;
  /**
   * The Socket.IO gateway (path /notifications/socket.io/). Default: true. Without it the
   * instance stores and rings the delivery leader but never leads delivery: another instance
   * on the same database (and Redis) with sockets pushes.
   */
  sockets?: boolean;
}

export type ResolvedNotificationsOptions = Omit<Required<NotificationsOptions>, 'redisUrl'> & {
  redisUrl: string | undefined;
};

/** The resolved options (`NotificationsOptions` with the defaults filled in). */
export const NOTIFICATIONS_OPTIONS = Symbol('NOTIFICATIONS_OPTIONS');

export const NOTIFICATIONS_DEFAULTS: Omit<ResolvedNotificationsOptions, 'jwtSecret' | 'redisUrl'> =
  {
    corsOrigins: [],
    retentionDays: 30,
    httpRateLimitPerMinute: 120_000,
    socketRateLimitPerMinute: 600,
    maxSocketsPerUser: 20,
    httpRateLimitScope: 'notifications',
    clusterWorker: false,
  };

/** Fills in the defaults; throws on a value no setting allows (a host's typo fails at start-up). */
export function resolveNotificationsOptions(
  options: NotificationsOptions,
): ResolvedNotificationsOptions {
  if (typeof options.jwtSecret !== 'string' || options.jwtSecret === '') {
    throw new Error('NotificationsModule: jwtSecret is required (the HS256 key of bearer tokens)');
  }
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as NotificationsOptions;
  const resolved: ResolvedNotificationsOptions = {
    ...NOTIFICATIONS_DEFAULTS,
    redisUrl: undefined,
    ...defined,
  };
  for (const key of [
    'retentionDays',
    'httpRateLimitPerMinute',
    'socketRateLimitPerMinute',
    'maxSocketsPerUser',
  ] as const) {
    const value = resolved[key];
    if (!Number.isInteger(value) || value < (key === 'maxSocketsPerUser' ? 1 : 0)) {
      throw new Error(`NotificationsModule: ${key} must be a whole number (got ${value})`);
    }
  }
  return resolved;
}

/**
 * The standalone service's (and its CLI's) options: its parsed environment, and the key
 * `JWT_SECRET` names or development keeps under the data folder (read, or made, on this call).
 */
export function notificationsOptionsFrom(config: AppConfig): NotificationsOptions {
  return {
    jwtSecret: resolveJwtSecret(config),
    redisUrl: config.redisUrl,
    corsOrigins: config.corsOrigins,
    retentionDays: config.retentionDays,
    httpRateLimitPerMinute: config.httpRateLimitPerMinute,
    socketRateLimitPerMinute: config.socketRateLimitPerMinute,
    maxSocketsPerUser: config.maxSocketsPerUser,
    httpRateLimitScope: 'every-route',
  };
}
