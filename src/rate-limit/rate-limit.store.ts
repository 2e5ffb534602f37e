/** Fixed-window counters. Memory for one process; Redis (see redis-rate-limit.store) for a deployment. */
export interface RateLimitStore {
  /**
   * Adds one to the window's counter and returns the new count. `evictable` marks a counter whose
   * loss only forgives some requests of one address (per-address windows): a bounded store may drop
   * those when full, never the others (per-key and daily quotas).
   */
  increment(key: string, windowMs: number, options?: { evictable?: boolean }): Promise<number>;
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

/**
 * One process's counters, at most `maxKeys` of them while evictable ones can make room. When full it
 * drops expired windows first, then the evictable counters whose windows end soonest (a Map keeps
 * insertion order, and every per-address window is one minute long, so the oldest are the first to
 * end). A live quota counter is never dropped: forgetting it would hand a key its spent allowance
 * again (daily MiCA quotas included). Quota counters exist only for real keys, so they stay bounded by
 * the keys in use; an unauthenticated flood can only create evictable ones.
 */
export class MemoryRateLimitStore implements SharedRateLimitStore {
  private readonly counters = new Map<string, Counter>();
  private readonly evictable = new Map<string, true>();

  constructor(private readonly maxKeys = 100_000) {}

  // Map work that cannot throw: a resolved promise keeps the store's asynchronous contract.
  increment(key: string, windowMs: number, options: { evictable?: boolean } = {}): Promise<number> {
    const now = Date.now();
    const current = this.counters.get(key);
    if (current && current.expiresAt > now) {
      current.count++;
      return Promise.resolve(current.count);
    }
    if (this.counters.size >= this.maxKeys) this.evict(now);
    this.counters.set(key, { count: 1, expiresAt: now + windowMs });
    this.evictable.delete(key);
    if (options.evictable) this.evictable.set(key, true);
    return Promise.resolve(1);
  }

  async incrementBy(key: string, n: number, windowMs: number): Promise<number> {
    let count = 0;
    for (let i = 0; i < n; i++) count = await this.increment(key, windowMs);
    return count;
  }

  peek(key: string): Promise<number> {
    const current = this.counters.get(key);
    return Promise.resolve(current && current.expiresAt > Date.now() ? current.count : 0);
  }

  get size(): number {
    return this.counters.size;
  }

  private evict(now: number): void {
    for (const [key, counter] of this.counters) {
      if (counter.expiresAt <= now) {
        this.counters.delete(key);
        this.evictable.delete(key);
      }
    }
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of this.evictable.keys()) {
      if (this.counters.size <= target) break;
      this.evictable.delete(key);
      this.counters.delete(key);
    }
  }
}
