/** Fixed-window counters. Memory for one process; Redis (see redis-rate-limit.store) for a deployment. */
export interface RateLimitStore {
  /** Adds one to the window's counter and returns the new count. */
  increment(key: string, windowMs: number): Promise<number>;
  /** Current count of the window, without adding. */
  peek(key: string): Promise<number>;
  close?(): Promise<void>;
}

export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

interface Counter {
  count: number;
  expiresAt: number;
}

export class MemoryRateLimitStore implements RateLimitStore {
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly maxKeys = 100_000) {}

  async increment(key: string, windowMs: number): Promise<number> {
    const now = Date.now();
    const current = this.counters.get(key);
    if (current && current.expiresAt > now) {
      current.count++;
      return current.count;
    }
    if (this.counters.size >= this.maxKeys) this.evict(now);
    this.counters.set(key, { count: 1, expiresAt: now + windowMs });
    return 1;
  }

  async peek(key: string): Promise<number> {
    const current = this.counters.get(key);
    return current && current.expiresAt > Date.now() ? current.count : 0;
  }

  private evict(now: number): void {
    for (const [key, counter] of this.counters) if (counter.expiresAt <= now) this.counters.delete(key);
    // Still full of live windows: drop the oldest insertions rather than grow without bound.
    const excess = this.counters.size - Math.floor(this.maxKeys * 0.9);
    if (excess > 0) {
      let dropped = 0;
      for (const key of this.counters.keys()) {
        if (dropped++ >= excess) break;
        this.counters.delete(key);
      }
    }
  }
}
