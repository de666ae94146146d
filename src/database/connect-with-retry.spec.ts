import { backoffDelays, START_UP_BACKOFF } from './connect-with-retry';

describe('backoffDelays', () => {
  it('doubles from the first delay up to the cap, one wait between each two attempts', () => {
    expect(backoffDelays({ attempts: 6, firstDelayMs: 500, maxDelayMs: 4000 })).toEqual([
      500, 1000, 2000, 4000, 4000,
    ]);
  });

  it('keeps the start-up wait bounded (under a minute in all)', () => {
    const total = backoffDelays(START_UP_BACKOFF).reduce((sum, delay) => sum + delay, 0);
    expect(total).toBeGreaterThan(20_000);
    expect(total).toBeLessThan(60_000);
  });
});
