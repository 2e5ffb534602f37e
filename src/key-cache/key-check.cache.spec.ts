import { sha256 } from '../common/crypto/secrets';
import { KeyCheckCache } from './key-check.cache';

const d = (s: string) => sha256(s);

describe('KeyCheckCache', () => {
  it('returns what was stored until its lifetime ends', () => {
    const cache = new KeyCheckCache({ maxEntries: 10 });
    cache.set('instance', d('a'), { ok: 1 }, 1000, ['key:1'], cache.epoch);
    expect(cache.get('instance', d('a'))).toEqual({ ok: 1 });
    expect(cache.get('mica', d('a'))).toBeUndefined();
    expect(cache.get('instance', d('a'), Date.now() + 1001)).toBeUndefined();
  });

  it('evicts the least recently used entry at its maximum size', () => {
    const cache = new KeyCheckCache({ maxEntries: 2 });
    cache.set('instance', d('a'), 'a', 1000, [], cache.epoch);
    cache.set('instance', d('b'), 'b', 1000, [], cache.epoch);
    cache.get('instance', d('a'));
    cache.set('instance', d('c'), 'c', 1000, [], cache.epoch);
    expect(cache.size).toBe(2);
    expect(cache.get('instance', d('a'))).toBe('a');
    expect(cache.get('instance', d('b'))).toBeUndefined();
  });

  it('drops every entry carrying an invalidated tag, and only those', () => {
    const cache = new KeyCheckCache({ maxEntries: 10 });
    cache.set('instance', d('a'), 'a', 1000, ['key:1', 'instance:X'], cache.epoch);
    cache.set('instance', d('b'), 'b', 1000, ['key:2', 'instance:X'], cache.epoch);
    cache.set('instance', d('c'), 'c', 1000, ['key:3', 'instance:Y'], cache.epoch);
    cache.invalidate(['instance:X']);
    expect(cache.get('instance', d('a'))).toBeUndefined();
    expect(cache.get('instance', d('b'))).toBeUndefined();
    expect(cache.get('instance', d('c'))).toBe('c');
  });

  it('refuses to store a result read before an invalidation', () => {
    const cache = new KeyCheckCache({ maxEntries: 10 });
    const epoch = cache.epoch;
    cache.invalidate(['key:1']);
    expect(cache.set('instance', d('a'), 'stale', 1000, ['key:1'], epoch)).toBe(false);
    expect(cache.get('instance', d('a'))).toBeUndefined();
  });

  it('serves nothing while suspended and starts empty when resumed', () => {
    const cache = new KeyCheckCache({ maxEntries: 10 });
    cache.set('instance', d('a'), 'a', 1000, [], cache.epoch);
    cache.suspend();
    expect(cache.get('instance', d('a'))).toBeUndefined();
    expect(cache.set('instance', d('b'), 'b', 1000, [], cache.epoch)).toBe(false);
    cache.resume();
    expect(cache.get('instance', d('a'))).toBeUndefined();
    expect(cache.set('instance', d('b'), 'b', 1000, [], cache.epoch)).toBe(true);
  });

  it('is off with a maximum size of 0', () => {
    const cache = new KeyCheckCache({ maxEntries: 0 });
    expect(cache.set('instance', d('a'), 'a', 1000, [], cache.epoch)).toBe(false);
  });
});
