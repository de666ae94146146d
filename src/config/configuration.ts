import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { MIN_CONNECTIONS_PER_WORKER, mostWorkersFor } from '../database/pool-size';

export type NodeEnv = 'development' | 'production' | 'test';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The validated environment: the only shape the rest of the code reads configuration from. */
export interface AppConfig {
  port: number;
  /** Unset: the embedded PostgreSQL under `dataDir` (development only). */
  databaseUrl: string | undefined;
  /** Unset: a single instance, no cross-instance delivery. */
  redisUrl: string | undefined;
  /** Unset: development keeps a generated key under `dataDir`. */
  jwtSecret: string | undefined;
  corsOrigins: string[];
  /** 0 turns the daily purge off. */
  retentionDays: number;
  nodeEnv: NodeEnv;
  /** Serve the demo inbox at `/` in production too (token minting stays development-only). */
  demoEnabled: boolean;
  /** pino level; defaults to `info`, and to `silent` under `NODE_ENV=test` to keep test output clean. */
  logLevel: LogLevel;
  /** Where development state lives: the embedded PostgreSQL and the generated JWT key. */
  dataDir: string;
  /**
   * Interface to listen on: `127.0.0.1` unless set in development and test (a laptop's server
   * is not on the network unless asked), undefined (every interface) in production.
   */
  host: string | undefined;
  /**
   * Express's `trust proxy`: which peers' X-Forwarded-For is believed, so that the client
   * address (the per-address rate limit's key) is the real one behind a proxy. false: none.
   */
  trustProxy: TrustProxy;
  /** HTTP requests per user (per client IP before authentication) per minute; 0: no limit. */
  httpRateLimitPerMinute: number;
  /** Events each socket may send per minute (mark_read); 0: no limit. */
  socketRateLimitPerMinute: number;
  /** Open sockets per user on each instance (each worker is one). */
  maxSocketsPerUser: number;
  /**
   * Service processes behind the one port (`WORKERS`). 1: the service runs in this process, as
   * a single instance; more: a primary process forks that many workers (see `src/cluster/`).
   */
  workers: number;
  /** PostgreSQL connections the service opens in all, every worker's share together (`DB_POOL_MAX`). */
  dbPoolMax: number;
}

/** false: no proxy is trusted; a number: that many hops; a list: those addresses, CIDRs or names. */
export type TrustProxy = false | number | string[];

/** The address ranges Express's `trust proxy` knows by name. */
const TRUST_PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** A configuration problem, phrased as the one line start-up prints before it stops. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type Env = Record<string, unknown>;

/** Where development and test listen unless `HOST` says otherwise. */
export const LOOPBACK_HOST = '127.0.0.1';

function read(env: Env, key: string): string | undefined {
  const value = env[key];
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  return text === '' ? undefined : text;
}

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const text = read(env, key);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw new ConfigError(`${key} must be a whole number from ${min} to ${max} (got "${text}")`);
  }
  return Number(text);
}

function url(env: Env, key: string, protocols: string[]): string | undefined {
  const text = read(env, key);
  if (text === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new ConfigError(`${key} is not a valid URL`);
  }
  if (!protocols.includes(parsed.protocol) || parsed.hostname === '') {
    throw new ConfigError(`${key} must be a ${protocols.join(' or ')}//host/... URL`);
  }
  return text;
}

function origins(env: Env, key: string): string[] {
  const text = read(env, key);
  if (text === undefined) return [];
  return text
    .split(',')
    .map((origin) => origin.trim())
    .filter((origin) => origin !== '')
    .map((origin) => {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new ConfigError(
          `${key} has "${origin}", which is not an origin like https://app.example.com`,
        );
      }
      if (
        !['http:', 'https:'].includes(parsed.protocol) ||
        parsed.origin !== origin.replace(/\/$/, '')
      ) {
        throw new ConfigError(
          `${key} has "${origin}", which is not an origin like https://app.example.com`,
        );
      }
      return parsed.origin;
    });
}

/** Dot-separated labels of letters, digits and inner hyphens (RFC 1123). */
const HOST_NAME =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;

function host(env: Env, key: string, mode: NodeEnv): string | undefined {
  const text = read(env, key);
  if (text === undefined) return mode === 'production' ? undefined : LOOPBACK_HOST;
  // All digits and dots is an IPv4 address or nothing (999.1.1.1 is no host name either).
  const looksNumeric = /^[\d.]+$/.test(text);
  if (isIP(text) === 0 && (looksNumeric || !HOST_NAME.test(text))) {
    throw new ConfigError(
      `${key} must be a host name or an IP address, like 127.0.0.1 (got "${text}")`,
    );
  }
  return text;
}

/** `false`, a hop count, or addresses/CIDRs/range names, comma-separated (never `true`: anyone). */
function trustProxy(env: Env, key: string): TrustProxy {
  const text = read(env, key);
  if (text === undefined || text === 'false' || text === '0') return false;
  if (/^\d+$/.test(text)) return integer(env, key, 0, 0, 100);
  const usage = `${key} must be false, a hop count, or proxy addresses/CIDRs (got "${text}")`;
  if (text === 'true') {
    throw new ConfigError(`${usage}: true would believe any client's X-Forwarded-For`);
  }
  return text.split(',').map((item) => {
    const entry = item.trim();
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address);
    const prefixOk =
      bits === undefined ||
      (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32) && extra === undefined);
    if (!TRUST_PROXY_NAMES.includes(entry) && (family === 0 || !prefixOk)) {
      throw new ConfigError(usage);
    }
    return entry;
  });
}

function nodeEnv(env: Env): NodeEnv {
  const text = read(env, 'NODE_ENV') ?? 'development';
  if (text !== 'development' && text !== 'production' && text !== 'test') {
    throw new ConfigError(`NODE_ENV must be development, production or test (got "${text}")`);
  }
  return text;
}

function boolean(env: Env, key: string, fallback: boolean): boolean {
  const text = read(env, key);
  if (text === undefined) return fallback;
  if (text !== 'true' && text !== 'false') {
    throw new ConfigError(`${key} must be true or false (got "${text}")`);
  }
  return text === 'true';
}

function logLevel(env: Env, mode: NodeEnv): LogLevel {
  const text = read(env, 'LOG_LEVEL');
  if (text === undefined) return mode === 'test' ? 'silent' : 'info';
  const level = LOG_LEVELS.find((candidate) => candidate === text);
  if (level === undefined) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got "${text}")`);
  }
  return level;
}

/** The most workers `WORKERS` takes (far above any machine this runs on). */
const MOST_WORKERS = 256;

/**
 * `WORKERS`: a count, or `auto` for one per CPU (`os.availableParallelism()`), the default in
 * production (1 elsewhere). `auto` takes no more workers than `DB_POOL_MAX` can feed; a count
 * that asks for more is an error naming both keys.
 */
function workers(env: Env, mode: NodeEnv, dbPoolMax: number): number {
  const text = read(env, 'WORKERS') ?? (mode === 'production' ? 'auto' : '1');
  const most = mostWorkersFor(dbPoolMax);
  if (text === 'auto') return Math.max(1, Math.min(availableParallelism(), most));
  const count = Number(text);
  if (!/^\d+$/.test(text) || count < 1 || count > MOST_WORKERS) {
    throw new ConfigError(
      `WORKERS must be auto or a whole number from 1 to ${MOST_WORKERS} (got "${text}")`,
    );
  }
  if (count > most) {
    throw new ConfigError(
      `WORKERS=${count} needs DB_POOL_MAX of at least ${count * MIN_CONNECTIONS_PER_WORKER} ` +
        `(${MIN_CONNECTIONS_PER_WORKER} PostgreSQL connections per worker; got ${dbPoolMax})`,
    );
  }
  return count;
}

/** Parses and validates the environment; throws a `ConfigError` naming the first bad key. */
export function parseConfig(env: Env): AppConfig {
  const mode = nodeEnv(env);
  const dbPoolMax = integer(env, 'DB_POOL_MAX', 20, MIN_CONNECTIONS_PER_WORKER, 10_000);
  const config: AppConfig = {
    nodeEnv: mode,
    port: integer(env, 'PORT', 8000, 0, 65535),
    databaseUrl: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    jwtSecret: read(env, 'JWT_SECRET'),
    corsOrigins: origins(env, 'CORS_ORIGINS'),
    retentionDays: integer(env, 'RETENTION_DAYS', 30, 0, 36500),
    demoEnabled: boolean(env, 'DEMO_ENABLED', false),
    logLevel: logLevel(env, mode),
    dataDir: '.data',
    host: host(env, 'HOST', mode),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    httpRateLimitPerMinute: integer(env, 'HTTP_RATE_LIMIT_PER_MINUTE', 120_000, 0, 10_000_000),
    socketRateLimitPerMinute: integer(env, 'SOCKET_RATE_LIMIT_PER_MINUTE', 600, 0, 10_000_000),
    maxSocketsPerUser: integer(env, 'MAX_SOCKETS_PER_USER', 20, 1, 100_000),
    workers: workers(env, mode, dbPoolMax),
    dbPoolMax,
  };
  if (config.nodeEnv === 'production') {
    if (config.jwtSecret === undefined) {
      throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    }
    if (config.databaseUrl === undefined) {
      throw new ConfigError(
        'DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development only)',
      );
    }
  }
  return config;
}

/** Reads `.env` when present (the environment wins), then validates; for entry points. */
export function loadConfig(): AppConfig {
  try {
    process.loadEnvFile('.env');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return parseConfig(process.env);
}
