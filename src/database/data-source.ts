import { DataSource, DataSourceOptions, MigrationExecutor } from 'typeorm';
import { InitialSchema1764115200000 } from '../../migrations/1764115200000-initial-schema';
import { DeliveryOutbox1764979200000 } from '../../migrations/1764979200000-delivery-outbox';
import { NotificationKinds1765584000000 } from '../../migrations/1765584000000-notification-kinds';
import { DeletionsOutbox1765670400000 } from '../../migrations/1765670400000-deletions-outbox';
import { IdempotencyKeys1765756800000 } from '../../migrations/1765756800000-idempotency-keys';
import { Preferences1765843200000 } from '../../migrations/1765843200000-preferences';
import { MIGRATION_LOCK, withAdvisoryLock } from './advisory-lock';
import { Notificacion } from '../notifications/notificacion.entity';
import { User } from '../users/user.entity';
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

/** The one set of TypeORM options: used by the app, the CLI, the tests and the TypeORM CLI. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [User, Notificacion],
    // Listed, not globbed, so the same list works from compiled JS and from TS under jest.
    migrations: [
      InitialSchema1764115200000,
      DeliveryOutbox1764979200000,
      NotificationKinds1765584000000,
      DeletionsOutbox1765670400000,
      IdempotencyKeys1765756800000,
      Preferences1765843200000,
    ],
    synchronize: false,
    migrationsRun: false,
    applicationName: 'notificaciones',
    // pg-pool passes these on to each client it creates (see bounded-client.ts for the numbers).
    extra: {
      max: 20,
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
