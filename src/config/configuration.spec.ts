import { availableParallelism } from 'node:os';
import { AppConfig, ConfigError, parseConfig } from './configuration';

function errorOf(env: Record<string, unknown>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error(`parseConfig accepted ${JSON.stringify(env)}`);
}

describe('parseConfig', () => {
  it('falls back to the documented defaults for an empty environment', () => {
    expect(parseConfig({})).toEqual<AppConfig>({
      port: 8000,
      databaseUrl: undefined,
      redisUrl: undefined,
      jwtSecret: undefined,
      corsOrigins: [],
      retentionDays: 30,
      nodeEnv: 'development',
      demoEnabled: false,
      logLevel: 'info',
      dataDir: '.data',
      host: '127.0.0.1',
      trustProxy: false,
      httpRateLimitPerMinute: 120_000,
      socketRateLimitPerMinute: 600,
      maxSocketsPerUser: 20,
      workers: 1,
      dbPoolMax: 20,
    });
  });

  it('treats blank values as unset', () => {
    expect(
      parseConfig({ PORT: ' ', DATABASE_URL: '', JWT_SECRET: '  ', RETENTION_DAYS: '' }),
    ).toMatchObject({
      port: 8000,
      databaseUrl: undefined,
      jwtSecret: undefined,
      retentionDays: 30,
    });
  });

  it('reads every key', () => {
    expect(
      parseConfig({
        PORT: '3000',
        DATABASE_URL: 'postgres://app:secret@db.internal:5432/notificaciones',
        REDIS_URL: 'redis://cache:6379/0',
        JWT_SECRET: 'a-long-secret',
        CORS_ORIGINS: 'https://app.example.com, http://localhost:5173/',
        RETENTION_DAYS: '0',
        NODE_ENV: 'production',
        DEMO_ENABLED: 'true',
        LOG_LEVEL: 'debug',
        HOST: '127.0.0.1',
        TRUST_PROXY: '1',
        HTTP_RATE_LIMIT_PER_MINUTE: '0',
        SOCKET_RATE_LIMIT_PER_MINUTE: '120',
        MAX_SOCKETS_PER_USER: '5',
        WORKERS: '3',
        DB_POOL_MAX: '40',
      }),
    ).toEqual<AppConfig>({
      port: 3000,
      databaseUrl: 'postgres://app:secret@db.internal:5432/notificaciones',
      redisUrl: 'redis://cache:6379/0',
      jwtSecret: 'a-long-secret',
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      retentionDays: 0,
      nodeEnv: 'production',
      demoEnabled: true,
      logLevel: 'debug',
      dataDir: '.data',
      host: '127.0.0.1',
      trustProxy: 1,
      httpRateLimitPerMinute: 0,
      socketRateLimitPerMinute: 120,
      maxSocketsPerUser: 5,
      workers: 3,
      dbPoolMax: 40,
    });
  });

  it('accepts postgresql: and rediss: URLs, and port 0 (any free port)', () => {
    expect(
      parseConfig({
        PORT: '0',
        DATABASE_URL: 'postgresql://db/app',
        REDIS_URL: 'rediss://cache:6380',
      }),
    ).toMatchObject({
      port: 0,
      databaseUrl: 'postgresql://db/app',
      redisUrl: 'rediss://cache:6380',
    });
  });

  it('listens on loopback unless asked in development and test, everywhere in production', () => {
    const production = { JWT_SECRET: 's', DATABASE_URL: 'postgres://db/app' };
    expect(parseConfig({ NODE_ENV: 'development' }).host).toBe('127.0.0.1');
    expect(parseConfig({ NODE_ENV: 'test' }).host).toBe('127.0.0.1');
    expect(parseConfig({ NODE_ENV: 'production', ...production }).host).toBeUndefined();
    expect(parseConfig({ NODE_ENV: 'development', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
    for (const HOST of ['999.1.1.1', '10.0.0', '1.2.3.4.5', 'bad host', '-']) {
      expect(() => parseConfig({ HOST })).toThrow(/^HOST must be a host name or an IP address/);
    }
    expect(parseConfig({ NODE_ENV: 'production', HOST: '10.0.0.5', ...production }).host).toBe(
      '10.0.0.5',
    );
  });

  it('ignores keys it does not know', () => {
    expect(parseConfig({ HOME: '/root', PATH: '/bin' })).toEqual(parseConfig({}));
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '-1'],
    ['PORT', '65536'],
    ['PORT', '80.5'],
    ['PORT', '8000abc'],
    ['DATABASE_URL', 'not a url'],
    ['DATABASE_URL', 'mysql://db/app'],
    ['DATABASE_URL', 'http://db/app'],
    ['REDIS_URL', 'localhost:6379'],
    ['REDIS_URL', 'http://cache:6379'],
    ['CORS_ORIGINS', 'app.example.com'],
    ['CORS_ORIGINS', 'https://app.example.com/path'],
    ['CORS_ORIGINS', 'https://ok.example.com,ftp://files.example.com'],
    ['RETENTION_DAYS', 'abc'],
    ['RETENTION_DAYS', '-1'],
    ['RETENTION_DAYS', '1.5'],
    ['RETENTION_DAYS', '36501'],
    ['NODE_ENV', 'staging'],
    ['DEMO_ENABLED', 'yes'],
    ['LOG_LEVEL', 'verbose'],
    ['WORKERS', '0'],
    ['WORKERS', '257'],
    ['WORKERS', 'all'],
    ['WORKERS', '1.5'],
    ['DB_POOL_MAX', '2'],
    ['DB_POOL_MAX', 'ten'],
  ])('stops with one line naming %s for %j', (key, value) => {
    const error = errorOf({ [key]: value });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(key);
    expect(error.message).not.toContain('\n');
  });

  it('does not echo a malformed DATABASE_URL, which may hold a password', () => {
    expect(errorOf({ DATABASE_URL: 'postgres//app:hunter2@db' }).message).not.toContain('hunter2');
  });

  describe('in production', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: 'a-long-secret',
      DATABASE_URL: 'postgres://db/app',
    };

    it('starts with JWT_SECRET and DATABASE_URL', () => {
      expect(parseConfig(production)).toMatchObject({ nodeEnv: 'production' });
    });

    it.each([['JWT_SECRET'], ['DATABASE_URL']])('requires %s', (key) => {
      const error = errorOf({ ...production, [key]: undefined });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(key);
    });

    it('does not take a blank JWT_SECRET', () => {
      expect(errorOf({ ...production, JWT_SECRET: '   ' }).message).toContain('JWT_SECRET');
    });
  });

  it('keeps test runs quiet unless LOG_LEVEL says otherwise', () => {
    expect(parseConfig({ NODE_ENV: 'test' }).logLevel).toBe('silent');
    expect(parseConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
  });

  it('lets development run without secrets or a database URL', () => {
    expect(() => parseConfig({ NODE_ENV: 'development' })).not.toThrow();
    expect(() => parseConfig({ NODE_ENV: 'test' })).not.toThrow();
  });

  describe('WORKERS and DB_POOL_MAX', () => {
    const production = {
      NODE_ENV: 'production',
      JWT_SECRET: 'a-long-secret',
      DATABASE_URL: 'postgres://db/app',
    };

    it('runs one process in development and test, one per CPU in production', () => {
      expect(parseConfig({ NODE_ENV: 'development' }).workers).toBe(1);
      expect(parseConfig({ NODE_ENV: 'test' }).workers).toBe(1);
      // 20 connections feed six workers at three each: the CPUs counted, up to that.
      expect(parseConfig(production).workers).toBe(Math.min(availableParallelism(), 6));
      expect(parseConfig({ WORKERS: 'auto' }).workers).toBe(Math.min(availableParallelism(), 6));
    });

    it('takes no more workers for auto than DB_POOL_MAX feeds, and at least one', () => {
      expect(parseConfig({ WORKERS: 'auto', DB_POOL_MAX: '3' }).workers).toBe(1);
      expect(parseConfig({ WORKERS: 'auto', DB_POOL_MAX: '3000' }).workers).toBe(
        availableParallelism(),
      );
    });

    it('takes a count DB_POOL_MAX can feed, and names both keys when it cannot', () => {
      expect(parseConfig({ WORKERS: '6', DB_POOL_MAX: '18' }).workers).toBe(6);
      const error = errorOf({ WORKERS: '7', DB_POOL_MAX: '20' });
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        'WORKERS=7 needs DB_POOL_MAX of at least 21 (3 PostgreSQL connections per worker; got 20)',
      );
    });
  });
});
