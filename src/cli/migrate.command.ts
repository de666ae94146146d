import { DataSource } from 'typeorm';
import { dataSourceOptions, runMigrations } from '../database/data-source';
import { locateDatabase } from '../database/database-server';
import { CommandInput } from './arguments';
import { StderrLogger } from './context';

/** Applies pending migrations without booting the app, and names them. */
export async function migrate({ config }: CommandInput): Promise<string> {
  const database = await locateDatabase(config, new StderrLogger('Database'));
  try {
    const dataSource = await new DataSource(dataSourceOptions(database.url)).initialize();
    try {
      return JSON.stringify({ applied: await runMigrations(dataSource) });
    } finally {
      await dataSource.destroy();
    }
  } finally {
    await database.stop();
  }
}
