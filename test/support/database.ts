import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { withDatabase } from '../../bench/lib/database-url';
import { dataSourceOptions, runMigrations } from '../../src/database/data-source';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';

/** What global setup leaves for the tests and for global teardown. */
export interface TestDatabase {
  /** The server-level URL (database `postgres`) used to create and drop the test database. */
  adminUrl: string;
  name: string;
  url: string;
}

const quiet = {
  log: () => undefined,
  warn: (message: string) => process.stderr.write(`${message}\n`),
};

/**
 * A fresh, empty database for this run: on the server `DATABASE_URL` names (CI's PostgreSQL),
 * or on an embedded PostgreSQL in the temp folder when it is unset (a fresh machine).
 */
export async function createTestDatabase(): Promise<{
  database: TestDatabase;
  stop: () => Promise<void>;
}> {
  const configured = process.env.DATABASE_URL;
  // In the temp folder, not under the checkout: PostgreSQL runs as its own system user when the
  // tests run as root, and that user must be able to reach the folder.
  const folder = join(
    tmpdir(),
    `notificaciones-test-${createHash('sha1').update(process.cwd()).digest('hex').slice(0, 8)}`,
  );
  const embedded = configured ? undefined : await startEmbeddedPostgres(folder, 'postgres', quiet);
  const adminUrl = withDatabase(configured ?? embedded!.url, 'postgres');
  const name = `notificaciones_test_${Date.now()}_${process.pid}`;
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return {
    database: { adminUrl, name, url: withDatabase(adminUrl, name) },
    stop: async () => {
      const admin = new Client({ connectionString: adminUrl });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.end();
      }
      await embedded?.stop();
    },
  };
}

/**
 * A connection to the run's test database with the schema in place, for tests whose services
 * run in other processes (or behind a proxy) and so cannot lend theirs.
 */
export async function openTestDatabase(url = process.env.DATABASE_URL!): Promise<DataSource> {
  const dataSource = await new DataSource(dataSourceOptions(url)).initialize();
  await runMigrations(dataSource);
  return dataSource;
}
