import type { ClientConfig, Pool } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/** The pg pool behind a TypeORM data source (undefined before it is initialised). */
export function pgPoolOf(dataSource: DataSource): (Pool & { options: ClientConfig }) | undefined {
  // TypeORM keeps the pool on its driver's `master` without typing it as pg's.
  return (dataSource.driver as PostgresDriver).master as
    (Pool & { options: ClientConfig }) | undefined;
}
