import { SlidingWindowStorage } from './sliding-window-storage';

const MINUTE = 60_000;

describe('SlidingWindowStorage', () => {
  let clock: number;
  let storage: SlidingWindowStorage;
  const hit = (key = 'user:1', limit = 5) => storage.increment(key, MINUTE, limit, MINUTE);

  beforeEach(() => {
    clock = 1_000_000;
    storage = new SlidingWindowStorage(() => clock);
  });

  it('lets `limit` requests through, refuses the next for the block duration, then starts afresh', async () => {
    for (let i = 1; i <= 5; i++) {
      expect(await hit()).toMatchObject({ totalHits: i, isBlocked: false, timeToBlockExpire: 0 });
    }
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    clock += 45_000;
    expect(await hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 15 });
    clock += 15_000;
    expect(await hit()).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('keeps one budget per key', async () => {
    for (let i = 0; i < 5; i++) await hit('user:1');
    expect((await hit('user:1')).isBlocked).toBe(true);
    expect(await hit('user:2')).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('counts the part of the previous window that still lies within the last minute', async () => {
    for (let i = 0; i < 4; i++) await hit('user:1', 4);
    // A quarter into the next window, three quarters of those 4 hits are still within a minute.
    clock += MINUTE + MINUTE / 4;
    expect(await hit('user:1', 4)).toMatchObject({ totalHits: 4, isBlocked: false });
    expect((await hit('user:1', 4)).isBlocked).toBe(true);
  });

  it('forgets the previous window once two windows have passed', async () => {
    for (let i = 0; i < 4; i++) await hit('user:1', 4);
    clock += 2 * MINUTE;
    expect(await hit('user:1', 4)).toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('tells how long until the current window ends', async () => {
    await hit();
    clock += 20_000;
    expect((await hit()).timeToExpire).toBe(40);
  });

  it('drops keys that have been idle for two windows', async () => {
    for (let user = 0; user < 100; user++) await hit(`user:${user}`);
    expect(storage.size).toBe(100);
    clock += 2 * MINUTE;
    await hit('user:new');
    expect(storage.size).toBe(1);
  });

  it('keeps a key that is still blocked, however long ago its window started', async () => {
    await storage.increment('user:1', 1_000, 1, 10 * MINUTE);
    await storage.increment('user:1', 1_000, 1, 10 * MINUTE);
    clock += 3 * MINUTE;
    await hit('user:2');
    expect((await storage.increment('user:1', 1_000, 1, 10 * MINUTE)).isBlocked).toBe(true);
  });
});
