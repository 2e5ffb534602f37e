import { sha256 } from '../common/crypto/secrets';
import { CachedDigestVerifier, DigestCredential, DigestRow } from './cached-digest.verifier';
import { digestId } from './digest-lookup.batcher';
import { KeyCheckCache } from './key-check.cache';

interface Row extends DigestRow {
  id: string;
}

type Check = { outcome: 'unknown' } | { outcome: 'found'; id: string; now: Date; context: string };

const UNKNOWN: Check = Object.freeze({ outcome: 'unknown' });
const options = {
  positiveTtlMs: 60_000,
  negativeTtlMs: 5_000,
  maxUnknownEntries: 100,
  lookups: { maxInFlight: 2, maxBatch: 10, timeoutMs: 1000 },
};

/**
 * A table in memory and the lookup over it, counting the queries; `during` runs while a lookup is
 * under way, after its rows are read and before they are answered (a change committing meanwhile).
 */
function fixture(clockAheadMs = 0) {
  const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 10 });
  const table = new Map<string, Omit<Row, 'now'>>();
  const state = { lookups: 0, during: undefined as (() => void) | undefined };
  const lookup = async (digests: Buffer[]): Promise<Row[]> => {
    state.lookups++;
    const found = digests.flatMap((d) => {
      const row = table.get(digestId(d));
      return row ? [{ ...row, now: new Date(Date.now() + clockAheadMs) }] : [];
    });
    await Promise.resolve();
    state.during?.();
    return found;
  };
  const credential: DigestCredential<Row, string, string, Check> = {
    namespace: 'instance',
    what: 'test lookup',
    tags: (row) => [`key:${row.id}`],
    keep: (row) => row.id,
    decide: (_row, id, now, context) => ({ outcome: 'found', id, now, context }),
    unknown: UNKNOWN,
  };
  const add = (secret: string, id: string) => table.set(digestId(sha256(secret)), { digest: sha256(secret), id });
  return { cache, state, add, verifier: new CachedDigestVerifier(cache, credential, lookup, options) };
}

describe('CachedDigestVerifier', () => {
  it('looks a digest up once, then answers it from the cache synchronously', async () => {
    const { verifier, state, add } = fixture();
    add('a', 'k1');
    expect(await verifier.verify(sha256('a'), 'ctx')).toMatchObject({ outcome: 'found', id: 'k1', context: 'ctx' });
    const hit = verifier.verify(sha256('a'), 'other');
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toMatchObject({ outcome: 'found', id: 'k1', context: 'other' });
    expect(state.lookups).toBe(1);
  });

  it("remembers an unknown digest apart, answering the credential's own refusal", async () => {
    const { verifier, state } = fixture();
    expect(await verifier.verify(sha256('nobody'), 'ctx')).toBe(UNKNOWN);
    expect(verifier.verify(sha256('nobody'), 'ctx')).toBe(UNKNOWN);
    expect(state.lookups).toBe(1);
  });

  it('does not store a found row read by a lookup that an invalidation raced', async () => {
    const { verifier, state, add, cache } = fixture();
    add('a', 'k1');
    state.during = () => cache.invalidate(['key:k1']);
    expect(await verifier.verify(sha256('a'), 'ctx')).toMatchObject({ outcome: 'found', id: 'k1' });
    state.during = undefined;
    expect(cache.get('instance', sha256('a'))).toBeUndefined();
    await verifier.verify(sha256('a'), 'ctx');
    expect(state.lookups).toBe(2);
    expect(verifier.verify(sha256('a'), 'ctx')).toMatchObject({ outcome: 'found', id: 'k1' });
  });

  it('does not remember as unknown a digest whose lookup an invalidation of anything raced', async () => {
    const { verifier, state, cache } = fixture();
    state.during = () => cache.invalidate(['key:elsewhere']);
    expect(await verifier.verify(sha256('x'), 'ctx')).toBe(UNKNOWN);
    expect(cache.get('instance', sha256('x'))).toBeUndefined();
  });

  it('decides a row read just now at its own database time, and a cached row against the database clock as it runs on', async () => {
    const aheadMs = 3_600_000;
    const { verifier, add } = fixture(aheadMs);
    add('a', 'k1');
    const read = (await verifier.verify(sha256('a'), 'ctx')) as Extract<Check, { outcome: 'found' }>;
    expect(Math.abs(read.now.getTime() - (Date.now() + aheadMs))).toBeLessThan(1000);
    await new Promise((r) => setTimeout(r, 20));
    const hit = verifier.verify(sha256('a'), 'ctx') as Extract<Check, { outcome: 'found' }>;
    expect(hit.now.getTime()).toBeGreaterThanOrEqual(read.now.getTime() + 15);
    expect(Math.abs(hit.now.getTime() - (Date.now() + aheadMs))).toBeLessThan(1000);
  });

  it('rejects when the lookup fails, storing nothing', async () => {
    const { verifier, state, add, cache } = fixture();
    add('a', 'k1');
    state.during = () => {
      throw new Error('connection lost');
    };
    await expect(verifier.verify(sha256('a'), 'ctx')).rejects.toThrow('connection lost');
    expect(cache.get('instance', sha256('a'))).toBeUndefined();
  });
});
