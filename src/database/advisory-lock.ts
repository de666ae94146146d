import type { DataSource, QueryRunner } from 'typeorm';

/**
 * A PostgreSQL session advisory lock: two numbers that no other code on the same database takes.
 * This service uses (0x6e6f7466, n): 1 migrations, 2 retention, 3 the delivery leader.
 */
export type AdvisoryLockKey = [number, number];

export const MIGRATION_LOCK: AdvisoryLockKey = [0x6e6f7466, 1];
export const PURGE_LOCK: AdvisoryLockKey = [0x6e6f7466, 2];
export const LEADER_LOCK: AdvisoryLockKey = [0x6e6f7466, 3];

export interface AdvisoryLockOptions {
  /** Wait for the lock (true), or give up at once when another session holds it (false). */
  wait: boolean;
  /**
   * Runs around the whole of it on the lock's connection, which is connected by then: lets
   * migrations lift the request timeouts before waiting for another instance's lock.
   */
  around?: <T>(runner: QueryRunner, work: () => Promise<T>) => Promise<T>;
}

/**
 * Runs `work` while holding `key`, on a connection of its own that `work` may use; answers
 * `{ locked: false }` without running it when `wait` is false and another session holds it.
 */
export async function withAdvisoryLock<T>(
  dataSource: DataSource,
  key: AdvisoryLockKey,
  options: AdvisoryLockOptions,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<{ locked: true; result: T } | { locked: false }> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  const locked = async (): Promise<{ locked: true; result: T } | { locked: false }> => {
    if (options.wait) {
      await runner.query('SELECT pg_advisory_lock($1, $2)', key);
    } else {
      const [{ locked }] = (await runner.query('SELECT pg_try_advisory_lock($1, $2) AS locked', [
        ...key,
      ])) as Array<{ locked: boolean }>;
      if (!locked) return { locked: false };
    }
    try {
      return { locked: true, result: await work(runner) };
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1, $2)', key).catch(() => undefined);
    }
  };
  try {
    return await (options.around ? options.around(runner, locked) : locked());
  } finally {
    await runner.release();
  }
}
