/**
 * How `DB_POOL_MAX`, the PostgreSQL connections the whole service may open, is shared between
 * its worker processes. Each worker opens its pool and one connection of its own for the
 * delivery leader, which every worker holds while it competes for the lead, not only the one
 * that leads. Everything else comes out of the pool: migrations, the retention job's lock and a
 * large fan-out's connection are pool connections held for a while.
 */

/** Connections a worker opens outside its pool: the delivery leader's. */
export const LEADER_CONNECTIONS = 1;

/**
 * The smallest pool a worker runs on: the retention job holds its lock's connection while it
 * deletes through the pool, and a large fan-out holds one while the next request needs another.
 */
export const MIN_POOL_PER_WORKER = 2;

/** The connections one worker needs at least: its smallest pool and the leader's. */
export const MIN_CONNECTIONS_PER_WORKER = MIN_POOL_PER_WORKER + LEADER_CONNECTIONS;

/**
 * Each worker's pool: an equal share of `dbPoolMax`, rounded down (the total never exceeds it),
 * less the leader's connection. `workers` is assumed valid (configuration checks the minimum).
 */
export function poolPerWorker(dbPoolMax: number, workers: number): number {
  return Math.floor(dbPoolMax / workers) - LEADER_CONNECTIONS;
}

/** The most workers `dbPoolMax` can feed with at least the minimum each. */
export function mostWorkersFor(dbPoolMax: number): number {
  return Math.floor(dbPoolMax / MIN_CONNECTIONS_PER_WORKER);
}
