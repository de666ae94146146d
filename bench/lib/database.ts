import { Pool } from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres';
import { withDatabase } from './database-url';
import { info, warn } from './log';
import { CLI_ENTRY, ROOT } from './paths';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The database a run uses: created empty for the run, dropped at the end. */
export interface BenchDatabase {
  /** Connection URL of the run's database. */
  url: string;
  /** `embedded` when the bench started its own PostgreSQL, `external` for `DATABASE_URL`. */
  kind: 'embedded' | 'external';
  /** PostgreSQL's `server_version`. */
  serverVersion: string;
  /** A small pool for seeding and checks. */
  pool: Pool;
  /** Drops the run's database and stops the embedded server, if the bench started one. */
  close(): Promise<void>;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const admin = new Pool({ connectionString: adminUrl, max: 1 });
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * A fresh database for the run: on the server `DATABASE_URL` names, or, when it is unset, on an
 * embedded PostgreSQL the bench starts under `.data/bench` (so a fresh clone needs only Node).
 */
export async function openBenchDatabase(): Promise<BenchDatabase> {
  const configured = process.env.DATABASE_URL?.trim() || undefined;
  const embedded = configured
    ? undefined
    : await startEmbeddedPostgres(resolve(ROOT, '.data', 'bench'), 'postgres', {
        log: (message) => info(message.replace(ROOT, '.')),
        warn: (message) => warn(message.replace(ROOT, '.')),
      });
  const serverUrl = configured ?? embedded!.url;
  const adminUrl = withDatabase(serverUrl, 'postgres');
  // A name of its own, so a run never touches data it did not create.
  const name = embedded ? 'notificaciones_bench' : `notificaciones_bench_${Date.now()}`;
  try {
    await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  } catch (error) {
    await embedded?.stop();
    throw new Error(
      `cannot create the bench database ${name} (the bench needs CREATE DATABASE): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const url = withDatabase(serverUrl, name);
  const pool = new Pool({ connectionString: url, max: 4, application_name: 'bench-seed' });
  const { rows } = await pool.query<{ server_version: string }>('SHOW server_version');
  info(
    `Bench database ${name} on ${embedded ? 'the embedded PostgreSQL' : 'DATABASE_URL'} ` +
      `(PostgreSQL ${rows[0].server_version})`,
  );
  let closed = false;
  return {
    url,
    kind: embedded ? 'embedded' : 'external',
    serverVersion: rows[0].server_version,
    pool,
    close: async () => {
      if (closed) return;
      closed = true;
      await pool.end().catch(() => undefined);
      await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(
        (error: Error) => warn(`could not drop ${name}: ${error.message}`),
      );
      await embedded?.stop();
    },
  };
}

/** Creates the schema with the service's own `cli migrate`, so workloads can seed first. */
export async function migrate(url: string): Promise<void> {
  const { stdout } = await run(process.execPath, [CLI_ENTRY, 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, NODE_ENV: 'production', JWT_SECRET: 'unused' },
    timeout: 60_000,
  }).catch((error: Error & { stderr?: string }) => {
    throw new Error(`cli migrate failed: ${error.stderr ?? error.message}`, { cause: error });
  });
  info(`Migrations: ${stdout.trim() || 'applied'}`);
}

/**
 * Creates `count` active users named `<prefix>-<n>` in one INSERT; returns their ids in order.
 */
export async function createUsers(
  pool: Pool,
  prefix: string,
  count: number,
  options: { staff?: boolean } = {},
): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO users (username, is_staff, is_active)
     SELECT $1 || '-' || g, $3, true FROM generate_series(1, $2::int) AS g
     ORDER BY g
     RETURNING id`,
    [prefix, count, options.staff ?? false],
  );
  return rows.map((row) => row.id).sort((a, b) => a - b);
}

/** VACUUM ANALYZE and a CHECKPOINT after bulk loading, so measurements start from a steady state. */
export async function settle(pool: Pool): Promise<void> {
  await pool.query('VACUUM (ANALYZE) notificaciones');
  await pool.query('VACUUM (ANALYZE) users');
  // Superuser only; skipped quietly on a managed server.
  await pool.query('CHECKPOINT').catch(() => undefined);
}
