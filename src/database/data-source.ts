import { DataSource, DataSourceOptions } from 'typeorm';
import { InitialSchema1764115200000 } from '../../migrations/1764115200000-initial-schema';
import { DeliveryOutbox1764979200000 } from '../../migrations/1764979200000-delivery-outbox';
import { Notificacion } from '../notifications/notificacion.entity';
import { User } from '../users/user.entity';

/** Name of the database the embedded PostgreSQL creates and serves. */
export const EMBEDDED_DATABASE = 'notificaciones';

/** Any two values, so long as no other code on the same database takes this advisory lock. */
const MIGRATION_LOCK: [number, number] = [0x6e6f7466, 1];

/** The one set of TypeORM options: used by the app, the CLI, the tests and the TypeORM CLI. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [User, Notificacion],
    // Listed, not globbed, so the same list works from compiled JS and from TS under jest.
    migrations: [InitialSchema1764115200000, DeliveryOutbox1764979200000],
    synchronize: false,
    migrationsRun: false,
    applicationName: 'notificaciones',
    extra: {
      max: 20,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30000,
    },
  };
}

/**
 * Applies pending migrations under an advisory lock, so instances that start together
 * take turns instead of racing to create the same tables. Returns the names applied.
 */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1, $2)', MIGRATION_LOCK);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await lock.query('SELECT pg_advisory_unlock($1, $2)', MIGRATION_LOCK).catch(() => undefined);
    await lock.release();
  }
}
