import { BatchedCounters } from './batched-counters';
import { MemoryRateLimitStore } from './rate-limit.store';

const WINDOW = 60_000;

/** The shared store (a real counter store) behind a round trip of `ms`, as Redis is over the network. */
function sharedStore(ms = 1) {
  const store = new MemoryRateLimitStore();
  let calls = 0;
  let down = false;
  const add = async (key: string, n: number, windowMs: number) => {
    calls++;
    await new Promise((r) => setTimeout(r, ms));
    if (down) throw new Error('store down');
    return store.incrementBy(key, n, windowMs);
  };
  return {
    add,
    total: (key: string) => store.peek(key),
    calls: () => calls,
    setDown: (value: boolean) => (down = value),
  };
}

describe('BatchedCounters', () => {
  it('settles every count at once with batch 1 (exact, like a plain increment)', async () => {
    const shared = sharedStore();
    const counters = new BatchedCounters(shared.add, () => undefined);
    for (let i = 1; i <= 5; i++) expect(await counters.increment('k', WINDOW, 1)).toBe(i);
    expect(await shared.total('k')).toBe(5);
    expect(shared.calls()).toBe(5);
  });

  it('settles the first count of a window at once, then in batches, never leaving a batch unsettled', async () => {
    const shared = sharedStore();
    const counters = new BatchedCounters(shared.add, () => undefined);
    await counters.increment('k', WINDOW, 10);
    expect(await shared.total('k')).toBe(1);
    for (let i = 0; i < 200; i++) {
      await counters.increment('k', WINDOW, 10);
      expect(counters.unsettled('k')).toBeLessThan(10);
    }
    // One round trip per about half a batch, instead of 201.
    expect(shared.calls()).toBeLessThan(60);
    await new Promise((r) => setTimeout(r, 10));
    expect((await shared.total('k')) + counters.unsettled('k')).toBe(201);
  });

  it('lets at most limit + (replicas - 1) x (batch - 1) pass across replicas, and never fewer than the limit (10 trials, 2 replicas, 300 parallel counts)', async () => {
    const limit = 100;
    const batch = 10;
    for (let trial = 0; trial < 10; trial++) {
      const shared = sharedStore(trial % 3);
      const replicas = [new BatchedCounters(shared.add, () => undefined), new BatchedCounters(shared.add, () => undefined)];
      const key = `k${trial}`;
      const counts = await Promise.all(Array.from({ length: 300 }, (_, i) => replicas[i % 2].increment(key, WINDOW, batch)));
      const passed = counts.filter((c) => c <= limit).length;
      expect(passed).toBeGreaterThanOrEqual(limit);
      expect(passed).toBeLessThanOrEqual(limit + (replicas.length - 1) * (batch - 1));
    }
  });

  it('counts in the process while the shared store fails, reports it, and sends those counts once it answers again', async () => {
    const shared = sharedStore();
    const errors: unknown[] = [];
    const counters = new BatchedCounters(shared.add, (e) => errors.push(e));
    await counters.increment('k', WINDOW, 4);
    shared.setDown(true);
    const during: number[] = [];
    for (let i = 0; i < 6; i++) during.push(await counters.increment('k', WINDOW, 4));
    expect(during).toEqual([2, 3, 4, 5, 6, 7]);
    expect(errors.length).toBeGreaterThan(0);
    shared.setDown(false);
    expect(await counters.increment('k', WINDOW, 4)).toBe(8);
    await new Promise((r) => setTimeout(r, 10));
    expect((await shared.total('k')) + counters.unsettled('k')).toBe(8);
  });

  it('starts a new window from zero', async () => {
    const shared = sharedStore();
    const counters = new BatchedCounters(shared.add, () => undefined);
    expect(await counters.increment('a', 200, 10)).toBe(1);
    expect(await counters.increment('a', 200, 10)).toBe(2);
    await new Promise((r) => setTimeout(r, 250));
    expect(await counters.increment('a', 200, 10)).toBe(1);
  });
});
