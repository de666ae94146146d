import type { DataSource, EntityManager } from 'typeorm';
import { pgPoolOf } from './pg-pool';

/**
 * The one way the repositories run SQL. Without `manager`: a named prepared statement on the
 * pg pool behind TypeORM, which skips TypeORM's per-query runner and lets PostgreSQL plan each
 * statement once per connection (a name must always go with the same text). With `manager`:
 * the same text on the caller's transaction, so the statement joins it.
 */
export async function runPrepared<T>(
  dataSource: DataSource,
  name: string,
  text: string,
  values: unknown[],
  manager?: EntityManager,
): Promise<T[]> {
  if (manager) return manager.query<T[]>(text, values);
  const result = await pgPoolOf(dataSource)!.query<T & object>({ name, text, values });
  return result.rows;
}
