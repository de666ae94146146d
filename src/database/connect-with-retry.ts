import { Logger, LoggerService } from '@nestjs/common';
import { DataSource, DataSourceOptions } from 'typeorm';
import { runMigrations } from './data-source';
import { isDatabaseUnavailable } from './errors';

const CONTEXT = 'Database';

export interface Backoff {
  attempts: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

/**
 * About 45 s of waiting in all: enough for a database that restarts or fails over, or that
 * starts alongside the service (docker compose); short enough that a wrong URL fails the
 * deployment instead of hanging it.
 */
export const START_UP_BACKOFF: Backoff = { attempts: 10, firstDelayMs: 500, maxDelayMs: 8000 };

/** The wait before each retry: doubling from `firstDelayMs`, capped at `maxDelayMs`. */
export function backoffDelays(backoff: Backoff): number[] {
  return Array.from({ length: backoff.attempts - 1 }, (_, retry) =>
    Math.min(backoff.firstDelayMs * 2 ** retry, backoff.maxDelayMs),
  );
}

/**
 * Connects and applies pending migrations, retrying with exponential backoff while the database
 * is unreachable, and logging each failed attempt. Other errors (a wrong password, a failing
 * migration) do not heal by waiting, so they fail at once. `logger` should write at once: Nest's
 * own `Logger` holds start-up lines back while the app buffers logs, and nobody would see why
 * start-up is waiting.
 */
export async function connectWithRetry(
  options: DataSourceOptions,
  {
    backoff = START_UP_BACKOFF,
    logger = new Logger(),
  }: { backoff?: Backoff; logger?: LoggerService } = {},
): Promise<DataSource> {
  const delays = backoffDelays(backoff);
  for (let attempt = 1; ; attempt += 1) {
    const dataSource = new DataSource(options);
    try {
      await dataSource.initialize();
      const applied = await runMigrations(dataSource);
      if (applied.length > 0) logger.log(`Applied ${applied.join(', ')}`, 'Migrations');
      if (attempt > 1) logger.log(`Database reachable after ${attempt} attempts`, CONTEXT);
      return dataSource;
    } catch (error) {
      if (dataSource.isInitialized) await dataSource.destroy().catch(() => undefined);
      const delay = delays[attempt - 1];
      const reason = (error as Error).message;
      if (!isDatabaseUnavailable(error) || delay === undefined) {
        logger.error(
          `Database unusable (attempt ${attempt} of ${backoff.attempts}): ${reason}`,
          CONTEXT,
        );
        throw error;
      }
      logger.warn(
        `Database unreachable (attempt ${attempt} of ${backoff.attempts}): ${reason}; ` +
          `retrying in ${delay / 1000} s`,
        CONTEXT,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
