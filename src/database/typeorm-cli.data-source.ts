// Entry point for the `typeorm` binary (npm run migration:generate|run|revert), which needs a
// DataSource instance exported from a file. It needs DATABASE_URL; the app and `cli migrate`
// also work with the embedded PostgreSQL.
import { DataSource } from 'typeorm';
import { parseConfig } from '../config/configuration';
import { dataSourceOptions } from './data-source';

const { databaseUrl } = parseConfig(process.env);
if (databaseUrl === undefined) {
  throw new Error('Set DATABASE_URL to use the TypeORM CLI (npm run -s cli -- migrate needs none)');
}

export default new DataSource(dataSourceOptions(databaseUrl));
