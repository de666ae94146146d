import { restartDelay } from './primary';

describe('restartDelay', () => {
  it('replaces a worker that exits now and then half a second later', () => {
    expect(restartDelay(1)).toBe(500);
  });

  it('doubles with each exit of a streak, up to 30 s', () => {
    expect([2, 3, 4, 5, 6, 7, 8, 50].map(restartDelay)).toEqual([
      1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000,
    ]);
  });
});
