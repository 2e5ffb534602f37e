/** Fixed-window counters. Memory for one process; Redis (see redis-rate-limit.store) for a deployment. */
export interface RateLimitStore {
  /** Adds one to the window's counter and returns the new count. */
  increment(key: string, windowMs: number): Promise<number>;
  /**
   * Like increment, for rules whose counts may be settled with a shared store in batches of up to
   * `batch` (BatchedCounters); absent where counting is local and exact anyway (memory).
   */
  incrementBatched?(key: string, windowMs: number, batch: number): Promise<number>;
  /** Current count of the window, without adding. */
  peek(key: string): Promise<number>;
  close?(): Promise<void>;
}

/** A store shared by replicas (Redis), which can take a batch of counts in one call. */
export interface SharedRateLimitStore extends RateLimitStore {
  /** Adds n to the window's counter and returns the new count. */
  incrementBy(key: string, n: number, windowMs: number): Promise<number>;
}

export const RATE_LIMIT_STORE = Symbol('RATE_LIMIT_STORE');

interface Counter {
  count: number;
  expiresAt: number;
}

export class MemoryRateLimitStore implements SharedRateLimitStore {
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

  async incrementBy(key: string, n: number, windowMs: number): Promise<number> {
    let count = 0;
    for (let i = 0; i < n; i++) count = await this.increment(key, windowMs);
    return count;
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
