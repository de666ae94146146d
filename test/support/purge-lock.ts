import { DataSource } from 'typeorm';

/** Any two values no other code takes: the app uses (0x6e6f7466, n). */
const PURGE_TEST_LOCK = [0x74657374, 1];

/** How far back purge tests put their old rows: far past anything other tests write. */
export const ANCIENT_DAYS = 30_000;

/**
 * Runs a purge test alone. A purge deletes every user's old rows, so two purge tests running at
 * once (test files run in parallel on one database) would delete each other's rows and miscount.
 */
export async function withPurgeLock<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1, $2)', PURGE_TEST_LOCK);
    try {
      return await work();
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1, $2)', PURGE_TEST_LOCK);
    }
  } finally {
    await lock.release();
  }
}
