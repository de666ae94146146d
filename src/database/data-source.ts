import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { MIGRATION_LOCK, withAdvisoryLock } from './advisory-lock';
import { NOTIFICATIONS_ENTITIES, NOTIFICATIONS_MIGRATIONS } from './schema';
import {
  BoundedClient,
  BoundedClientConfig,
  KEEPALIVE_INITIAL_DELAY_MS,
  POOL_WAIT_MS,
  REPLY_TIMEOUT_MS,
  STATEMENT_TIMEOUT_MS,
  withoutTimeouts,
} from './bounded-client';

/** Name of the database the embedded PostgreSQL creates and serves. */
export const EMBEDDED_DATABASE = 'notificaciones';

/** The pool size of a process that shares no budget (the CLI, the tests' own connections). */
export const DEFAULT_POOL_MAX = 20;

/**
 * The one set of TypeORM options: used by the app, the CLI, the tests and the TypeORM CLI.
 * `poolMax`: the pool's size (the app's is its share of `DB_POOL_MAX`, see pool-size.ts).
 */
export function dataSourceOptions(url: string, poolMax = DEFAULT_POOL_MAX): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: NOTIFICATIONS_ENTITIES,
    migrations: NOTIFICATIONS_MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    applicationName: 'notificaciones',
    // pg-pool passes these on to each client it creates (see bounded-client.ts for the numbers).
    extra: {
      max: poolMax,
      idleTimeoutMillis: 30000,
      Client: BoundedClient,
      connectionTimeoutMillis: POOL_WAIT_MS,
      statement_timeout: STATEMENT_TIMEOUT_MS,
      replyTimeoutMillis: REPLY_TIMEOUT_MS,
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
      // No JIT: every statement here is an index lookup whose cost PostgreSQL overestimates on
      // large tables (a per-user count estimated over thousands of users), and compiling one
      // took 80 ms against the 1 ms it then ran (the delivery leader's read, measured).
      options: '-c jit=off',
    } satisfies BoundedClientConfig & Record<string, unknown>,
  };
}

/**
 * Applies pending migrations under an advisory lock, so instances that start together
 * take turns instead of racing to create the same tables. Returns the names applied.
 * They run on the lock's connection, without the request timeouts: waiting for another
 * instance's migrations, or rewriting a large table, may take longer than any request should.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const outcome = await withAdvisoryLock(
    dataSource,
    MIGRATION_LOCK,
    { wait: true, around: withoutTimeouts },
    async (lock) => {
      const executor = new MigrationExecutor(dataSource, lock);
      executor.transaction = 'each';
      const applied = await executor.executePendingMigrations();
      return applied.map((migration) => migration.name);
    },
  );
  // A waiting lock is always taken.
  return outcome.locked ? outcome.result : [];
}
