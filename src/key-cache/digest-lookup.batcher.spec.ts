import { DatabaseTimeoutError } from '../database/database-errors';
import { DigestLookupBatcher, digestId } from './digest-lookup.batcher';

const digest = (n: number) => Buffer.alloc(32, n);

/** A query under the test's control: each call is recorded and answered when the test says so. */
function controlledQuery() {
  const calls: Array<{ digests: Buffer[]; answer: (found: number[]) => void; fail: (e: unknown) => void }> = [];
  const query = (digests: Buffer[]) =>
    new Promise<Map<string, string>>((resolve, reject) => {
      calls.push({
        digests,
        answer: (found) => resolve(new Map(found.map((n) => [digestId(digest(n)), `row${n}`]))),
        fail: reject,
      });
    });
  return { calls, query };
}

const options = { maxInFlight: 1, maxBatch: 3, timeoutMs: 1000, what: 'test lookup' };
const flush = () => new Promise((r) => setImmediate(r));

describe('DigestLookupBatcher', () => {
  afterEach(() => jest.useRealTimers());

  it('sends a lookup at once when a slot is free', async () => {
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, options);
    const row = batcher.load(digest(1));
    expect(calls).toHaveLength(1);
    calls[0].answer([1]);
    await expect(row).resolves.toBe('row1');
  });

  it('answers undefined for a digest the query did not find', async () => {
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, options);
    const row = batcher.load(digest(1));
    calls[0].answer([]);
    await expect(row).resolves.toBeUndefined();
  });

  it('queues lookups while the slots are busy and sends them together, at most maxBatch a query', async () => {
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, options);
    const rows = [1, 2, 3, 4, 5].map((n) => batcher.load(digest(n)));
    expect(calls.map((c) => c.digests.length)).toEqual([1]);
    calls[0].answer([1]);
    await flush();
    expect(calls.map((c) => c.digests.length)).toEqual([1, 3]);
    calls[1].answer([2, 4]);
    await flush();
    expect(calls.map((c) => c.digests.length)).toEqual([1, 3, 1]);
    calls[2].answer([5]);
    await expect(Promise.all(rows)).resolves.toEqual(['row1', 'row2', undefined, 'row4', 'row5']);
  });

  it('asks once for a digest queued twice, and answers both callers', async () => {
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, options);
    const first = batcher.load(digest(9));
    const queuedA = batcher.load(digest(1));
    const queuedB = batcher.load(digest(1));
    calls[0].answer([]);
    await flush();
    expect(calls[1].digests).toEqual([digest(1)]);
    calls[1].answer([1]);
    await expect(Promise.all([first, queuedA, queuedB])).resolves.toEqual([undefined, 'row1', 'row1']);
  });

  it('never lets a lookup join a query already sent (it could read before a change the caller must see)', async () => {
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, options);
    const early = batcher.load(digest(1));
    const late = batcher.load(digest(1));
    expect(calls).toHaveLength(1);
    calls[0].answer([1]);
    await flush();
    expect(calls).toHaveLength(2);
    calls[1].answer([]);
    await expect(early).resolves.toBe('row1');
    await expect(late).resolves.toBeUndefined();
  });

  it('rejects every caller of a failed query and serves the next lookup', async () => {
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, { ...options, maxInFlight: 2 });
    const a = batcher.load(digest(1));
    const b = batcher.load(digest(2));
    const c = batcher.load(digest(3));
    calls[0].fail(new Error('connection reset'));
    await expect(a).rejects.toThrow('connection reset');
    await flush();
    calls[2].fail(new Error('connection reset'));
    await expect(c).rejects.toThrow('connection reset');
    calls[1].answer([2]);
    await expect(b).resolves.toBe('row2');
    const d = batcher.load(digest(4));
    calls[3].answer([4]);
    await expect(d).resolves.toBe('row4');
  });

  it('rejects a query that throws before returning a promise', async () => {
    const batcher = new DigestLookupBatcher<string>(() => {
      throw new Error('not initialised');
    }, options);
    await expect(batcher.load(digest(1))).rejects.toThrow('not initialised');
  });

  it('times out lookups behind a stalled query, frees its slot and never sends what timed out in the queue', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate'] });
    const { calls, query } = controlledQuery();
    const batcher = new DigestLookupBatcher(query, { ...options, maxBatch: 1 });
    const stuck = batcher.load(digest(1));
    const next = batcher.load(digest(2));
    const dropped = batcher.load(digest(3));
    jest.advanceTimersByTime(1000);
    for (const lookup of [stuck, next, dropped]) await expect(lookup).rejects.toBeInstanceOf(DatabaseTimeoutError);
    // The stalled query's slot went to the next lookup in line; the one that timed out still queued was dropped.
    expect(calls.map((c) => c.digests)).toEqual([[digest(1)], [digest(2)]]);
    calls[1].answer([2]);
    await flush();
    const later = batcher.load(digest(4));
    expect(calls.map((c) => c.digests)).toEqual([[digest(1)], [digest(2)], [digest(4)]]);
    calls[2].answer([4]);
    await expect(later).resolves.toBe('row4');
    // The stalled query answering late changes nothing for anyone.
    calls[0].answer([1]);
  });
});
