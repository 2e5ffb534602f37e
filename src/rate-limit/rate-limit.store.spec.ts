import { JsonLogger } from '../common/logging/json-logger';
import { MemoryRateLimitStore, SharedRateLimitStore } from './rate-limit.store';
import { RateLimiterService } from './rate-limiter.service';
import { FallbackRateLimitStore } from './redis-rate-limit.store';

describe('MemoryRateLimitStore', () => {
  it('counts per key within a window', async () => {
    const store = new MemoryRateLimitStore();
    expect(await store.increment('a', 60_000)).toBe(1);
    expect(await store.increment('a', 60_000)).toBe(2);
    expect(await store.increment('b', 60_000)).toBe(1);
    expect(await store.peek('a')).toBe(2);
    expect(await store.peek('missing')).toBe(0);
  });

  it('stays within its maximum size under a flood of per-address counters', async () => {
    const store = new MemoryRateLimitStore(100);
    for (let i = 0; i < 1000; i++) await store.increment(`k${i}`, 60_000, { evictable: true });
    expect(store.size).toBeLessThanOrEqual(100);
  });

  it('#11 item 13: never forgets a live quota counter when full, evicting per-address windows instead', async () => {
    const store = new MemoryRateLimitStore(100);
    for (let k = 0; k < 20; k++) for (let i = 0; i < 5; i++) await store.increment(`rl:mica-day:key${k}:1`, 86_400_000);
    for (let i = 0; i < 5000; i++) await store.increment(`rl:auth-failures:10.0.${i >> 8}.${i & 255}:1`, 60_000, { evictable: true });
    for (let k = 0; k < 20; k++) expect(await store.increment(`rl:mica-day:key${k}:1`, 86_400_000)).toBe(6);
    expect(store.size).toBeLessThanOrEqual(100);
  });

  it('evicts the per-address windows that end soonest first', async () => {
    const store = new MemoryRateLimitStore(10);
    const clock = jest.spyOn(Date, 'now').mockReturnValue(1_000_000);
    try {
      await store.increment('old', 60_000, { evictable: true });
      await store.increment('old', 60_000, { evictable: true });
      clock.mockReturnValue(1_030_000);
      for (let i = 0; i < 8; i++) await store.increment(`new${i}`, 60_000, { evictable: true });
      await store.increment('newest', 60_000, { evictable: true });
      await store.increment('one-more', 60_000, { evictable: true });
      expect(await store.peek('old')).toBe(0);
      expect(await store.peek('newest')).toBe(1);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('RateLimiterService', () => {
  it('reports remaining requests and refuses past the limit', async () => {
    const limiter = new RateLimiterService(new MemoryRateLimitStore());
    const rule = { name: 't', limit: 2, windowMs: 60_000 };
    expect(await limiter.consume(rule, 'x')).toMatchObject({ limit: 2, remaining: 1, exceeded: false });
    expect(await limiter.consume(rule, 'x')).toMatchObject({ remaining: 0, exceeded: false });
    expect((await limiter.check(rule, 'x'))?.exceeded).toBe(true);
    const third = await limiter.consume(rule, 'x');
    expect(third).toMatchObject({ remaining: 0, exceeded: true });
    expect(third!.resetSeconds).toBeGreaterThan(0);
    expect(third!.resetSeconds).toBeLessThanOrEqual(60);
  });

  it('turns a limiter off with a limit of 0', async () => {
    const limiter = new RateLimiterService(new MemoryRateLimitStore());
    expect(await limiter.consume({ name: 'off', limit: 0, windowMs: 60_000 }, 'x')).toBeUndefined();
  });
});

describe('FallbackRateLimitStore', () => {
  const failing: SharedRateLimitStore = {
    increment: () => Promise.reject(new Error('redis down')),
    incrementBy: () => Promise.reject(new Error('redis down')),
    peek: () => Promise.reject(new Error('redis down')),
  };

  it('counts in the process while the shared store fails, and back in the shared store after', async () => {
    const fallback = new MemoryRateLimitStore();
    let down = true;
    const shared = new MemoryRateLimitStore();
    const flaky: SharedRateLimitStore = {
      increment: (k, w) => (down ? failing.increment(k, w) : shared.increment(k, w)),
      incrementBy: (k, n, w) => (down ? failing.incrementBy(k, n, w) : shared.incrementBy(k, n, w)),
      peek: (k) => (down ? failing.peek(k) : shared.peek(k)),
    };
    const store = new FallbackRateLimitStore(flaky, fallback, new JsonLogger('silent'));
    expect(await store.increment('k', 60_000)).toBe(1);
    expect(await store.increment('k', 60_000)).toBe(2);
    expect(store.degraded).toBe(true);
    down = false;
    expect(await store.increment('k', 60_000)).toBe(1);
    expect(store.degraded).toBe(false);
  });
});
