import { JsonLogger } from '../logging/json-logger';
import { MemoryRateLimitStore, RateLimitStore, SharedRateLimitStore } from './rate-limit.store';
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

  it('stays within its maximum size', async () => {
    const store = new MemoryRateLimitStore(100);
    for (let i = 0; i < 1000; i++) await store.increment(`k${i}`, 60_000);
    expect((store as unknown as { counters: Map<string, unknown> }).counters.size).toBeLessThanOrEqual(100);
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
