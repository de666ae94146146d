import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '../../src/database/data-source';

/**
 * A connection to the run's test database with the schema in place, for tests whose services
 * run in other processes (or behind a proxy) and so cannot lend theirs.
 */
export async function openTestDatabase(url = process.env.DATABASE_URL!): Promise<DataSource> {
  const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
  await runMigrations(dataSource);
  return dataSource;
}
