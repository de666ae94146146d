import type { ThrottlerStorage } from '@nestjs/throttler';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Window {
  /** When the current window started (ms since the epoch). */
  start: number;
  /** Hits in the current window. */
  count: number;
  /** Hits in the window before it. */
  previous: number;
  /** Until when the key is refused (0: it is not). */
  blockedUntil: number;
}

/**
 * The HTTP rate limiter's counts, in this instance's memory, at a constant cost per request.
 *
 * @nestjs/throttler's built-in storage keeps one timestamp per hit and filters the whole list on
 * every request: at the default limit (120,000 a minute) a busy user's request costs a pass over
 * up to 120,000 entries and a fresh array of that size. This keeps two counters per key instead
 * (a sliding-window counter): the hits of the current window plus the previous window's hits
 * weighted by how much of it still overlaps the last `ttl`. Past the limit the key is refused
 * for `blockDuration`, then starts afresh, as with the built-in storage.
 */
export class SlidingWindowStorage implements ThrottlerStorage {
  private readonly windows = new Map<string, Window>();
  private lastSweep: number;
  private longestTtl = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.lastSweep = now();
  }

  /** Keys currently held: what the sweep bounds. */
  get size(): number {
    return this.windows.size;
  }

  increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
  ): Promise<ThrottlerStorageRecord> {
    const now = this.now();
    this.sweep(now, ttl);
    let window = this.windows.get(key);
    if (!window || (window.blockedUntil !== 0 && window.blockedUntil <= now)) {
      window = { start: now, count: 0, previous: 0, blockedUntil: 0 };
      this.windows.set(key, window);
    }
    const elapsed = now - window.start;
    if (elapsed >= ttl) {
      window.previous = elapsed < 2 * ttl ? window.count : 0;
      window.count = 0;
      window.start += Math.floor(elapsed / ttl) * ttl;
    }
    const timeToExpire = Math.ceil((window.start + ttl - now) / 1000);
    if (window.blockedUntil === 0) {
      window.count += 1;
      if (estimatedHits(window, ttl, now) > limit) window.blockedUntil = now + blockDuration;
    }
    const isBlocked = window.blockedUntil !== 0;
    return Promise.resolve({
      totalHits: estimatedHits(window, ttl, now),
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? Math.ceil((window.blockedUntil - now) / 1000) : 0,
    });
  }

  /** Drops keys idle for two windows, at most once per window: memory stays bounded by traffic. */
  private sweep(now: number, ttl: number): void {
    this.longestTtl = Math.max(this.longestTtl, ttl);
    if (now - this.lastSweep < this.longestTtl) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) {
      if (window.blockedUntil <= now && now - window.start >= 2 * this.longestTtl) {
        this.windows.delete(key);
      }
    }
  }
}

/** Hits in the last `ttl`: the current window's plus the overlapping share of the previous one. */
function estimatedHits(window: Window, ttl: number, now: number): number {
  const overlap = 1 - (now - window.start) / ttl;
  return window.count + Math.floor(window.previous * overlap);
}
