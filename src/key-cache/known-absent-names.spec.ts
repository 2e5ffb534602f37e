import { KnownAbsentNames } from './known-absent-names';

const OPTIONS = { absentTtlMs: 5_000, presentTtlMs: 60_000, maxEntries: 3, maxBatch: 100 };

/** A real lookup over a set of existing names, counting its calls. */
function names(existing: string[]) {
  const lookups: string[][] = [];
  const lookup = (asked: string[]) => {
    lookups.push(asked);
    return Promise.resolve(new Set(asked.filter((n) => existing.includes(n))));
  };
  return { lookups, lookup };
}

describe('KnownAbsentNames', () => {
  it('answers nothing absent before it has looked a name up', () => {
    const { lookup } = names([]);
    expect(new KnownAbsentNames(lookup, OPTIONS).isAbsent('Zz9Yy8Xx')).toBe(false);
  });

  it('learns in one lookup which reported names do not exist, and never calls an existing one absent', async () => {
    const { lookup, lookups } = names(['Ab3dE5gH']);
    const known = new KnownAbsentNames(lookup, OPTIONS);
    known.report('Zz9Yy8Xx');
    known.report('Ab3dE5gH');
    known.report('Zz9Yy8Xx');
    await known.settled();
    expect(known.isAbsent('Zz9Yy8Xx')).toBe(true);
    expect(known.isAbsent('Ab3dE5gH')).toBe(false);
    // Reports of one turn of the loop share one lookup, each name once.
    expect(lookups).toEqual([['Zz9Yy8Xx', 'Ab3dE5gH']]);
  });

  it('does not ask again about a name it already knows, either way', async () => {
    const { lookup, lookups } = names(['Ab3dE5gH']);
    const known = new KnownAbsentNames(lookup, OPTIONS);
    known.report('Ab3dE5gH');
    known.report('Zz9Yy8Xx');
    await known.settled();
    const before = lookups.length;
    known.report('Ab3dE5gH');
    known.report('Zz9Yy8Xx');
    await known.settled();
    expect(lookups.length).toBe(before);
  });

  it('forgets an absent name after its lifetime', async () => {
    const { lookup } = names([]);
    const known = new KnownAbsentNames(lookup, OPTIONS);
    known.report('Zz9Yy8Xx');
    await known.settled();
    expect(known.isAbsent('Zz9Yy8Xx', Date.now() + OPTIONS.absentTtlMs + 1)).toBe(false);
  });

  it('learns nothing when the lookup fails', async () => {
    const known = new KnownAbsentNames(async () => Promise.reject(new Error('database down')), OPTIONS);
    known.report('Zz9Yy8Xx');
    await known.settled();
    expect(known.isAbsent('Zz9Yy8Xx')).toBe(false);
  });

  it('keeps at most maxEntries names, the oldest going first', async () => {
    const { lookup } = names([]);
    const known = new KnownAbsentNames(lookup, OPTIONS);
    for (const n of ['a0000000', 'b0000000', 'c0000000', 'd0000000']) {
      known.report(n);
      await known.settled();
    }
    expect(known.isAbsent('a0000000')).toBe(false);
    expect(known.isAbsent('d0000000')).toBe(true);
  });

  it('answers nothing from memory, and learns nothing, while it is not enabled', async () => {
    const { lookup, lookups } = names([]);
    let enabled = true;
    const known = new KnownAbsentNames(lookup, { ...OPTIONS, enabled: () => enabled });
    known.report('Zz9Yy8Xx');
    await known.settled();
    enabled = false;
    expect(known.isAbsent('Zz9Yy8Xx')).toBe(false);
    known.report('Yy8Xx7Ww');
    await known.settled();
    expect(lookups).toHaveLength(1);
  });
});
