import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * Runs a named prepared statement on the pg pool behind TypeORM. For the hot paths (auth lookup,
 * list, unread count, single inserts): it skips TypeORM's per-query runner and lets PostgreSQL
 * plan each statement once per connection. A name must always go with the same text.
 */
export async function runPrepared<T>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  const pool = (dataSource.driver as PostgresDriver).master as Pool;
  const result = await pool.query<T & object>({ name, text, values });
  return result.rows;
}
