import { MIN_CONNECTIONS_PER_WORKER, mostWorkersFor, poolPerWorker } from './pool-size';

describe('poolPerWorker', () => {
  it('gives one process all of DB_POOL_MAX but the leader connection', () => {
    expect(poolPerWorker(20, 1)).toBe(19);
  });

  it('rounds each share down, so the total never exceeds DB_POOL_MAX', () => {
    for (const [max, workers] of [
      [20, 2],
      [20, 3],
      [21, 4],
      [100, 7],
      [9, 3],
    ]) {
      const pool = poolPerWorker(max, workers);
      expect(workers * (pool + 1)).toBeLessThanOrEqual(max);
      // Rounding loses less than one connection per worker.
      expect(max - workers * (pool + 1)).toBeLessThan(workers);
    }
    expect(poolPerWorker(20, 3)).toBe(5);
  });

  it('leaves every worker it allows at least the minimum', () => {
    for (const max of [3, 4, 20, 59, 60, 1000]) {
      const most = mostWorkersFor(max);
      expect(poolPerWorker(max, most) + 1).toBeGreaterThanOrEqual(MIN_CONNECTIONS_PER_WORKER);
      expect(Math.floor(max / (most + 1))).toBeLessThan(MIN_CONNECTIONS_PER_WORKER);
    }
  });
});
