import { sha256 } from '../common/crypto/secrets';
import { KeyCheckCache } from './key-check.cache';

const d = (s: string) => sha256(s);

describe('KeyCheckCache', () => {
  it('returns what was stored until its lifetime ends', () => {
    const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
    cache.set('instance', d('a'), { ok: 1 }, 1000, ['key:1'], cache.epoch);
    expect(cache.get('instance', d('a'))).toEqual({ ok: 1 });
    expect(cache.get('mica', d('a'))).toBeUndefined();
    expect(cache.get('instance', d('a'), Date.now() + 1001)).toBeUndefined();
  });

  it('evicts the least recently used entry at its maximum size', () => {
    const cache = new KeyCheckCache({ maxEntries: 2, maxUnknownEntries: 2 });
    cache.set('instance', d('a'), 'a', 1000, [], cache.epoch);
    cache.set('instance', d('b'), 'b', 1000, [], cache.epoch);
    cache.get('instance', d('a'));
    cache.set('instance', d('c'), 'c', 1000, [], cache.epoch);
    expect(cache.size).toBe(2);
    expect(cache.get('instance', d('a'))).toBe('a');
    expect(cache.get('instance', d('b'))).toBeUndefined();
  });

  it('drops every entry carrying an invalidated tag, and only those', () => {
    const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
    cache.set('instance', d('a'), 'a', 1000, ['key:1', 'instance:X'], cache.epoch);
    cache.set('instance', d('b'), 'b', 1000, ['key:2', 'instance:X'], cache.epoch);
    cache.set('instance', d('c'), 'c', 1000, ['key:3', 'instance:Y'], cache.epoch);
    cache.invalidate(['instance:X']);
    expect(cache.get('instance', d('a'))).toBeUndefined();
    expect(cache.get('instance', d('b'))).toBeUndefined();
    expect(cache.get('instance', d('c'))).toBe('c');
  });

  it('refuses to store a result read before an invalidation', () => {
    const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
    const epoch = cache.epoch;
    cache.invalidate(['key:1']);
    expect(cache.set('instance', d('a'), 'stale', 1000, ['key:1'], epoch)).toBe(false);
    expect(cache.get('instance', d('a'))).toBeUndefined();
  });

  it('serves nothing while suspended and starts empty when resumed', () => {
    const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
    cache.set('instance', d('a'), 'a', 1000, [], cache.epoch);
    cache.suspend();
    expect(cache.get('instance', d('a'))).toBeUndefined();
    expect(cache.set('instance', d('b'), 'b', 1000, [], cache.epoch)).toBe(false);
    cache.resume();
    expect(cache.get('instance', d('a'))).toBeUndefined();
    expect(cache.set('instance', d('b'), 'b', 1000, [], cache.epoch)).toBe(true);
  });

  it('is off with a maximum size of 0', () => {
    const cache = new KeyCheckCache({ maxEntries: 0, maxUnknownEntries: 2 });
    expect(cache.set('instance', d('a'), 'a', 1000, [], cache.epoch)).toBe(false);
  });

  describe('unknown keys', () => {
    it('answers null for a digest remembered as unknown, until its lifetime ends', () => {
      const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
      cache.setUnknown('instance', d('x'), 1000, cache.epoch);
      expect(cache.get('instance', d('x'))).toBeNull();
      expect(cache.get('mica', d('x'))).toBeUndefined();
      expect(cache.get('instance', d('x'), Date.now() + 1001)).toBeUndefined();
    });

    it('a flood of unknown keys never pushes a found key out', () => {
      const cache = new KeyCheckCache({ maxEntries: 2, maxUnknownEntries: 2 });
      cache.set('instance', d('real'), 'real', 1000, ['key:1'], cache.epoch);
      for (let i = 0; i < 1000; i++) cache.setUnknown('instance', d(`made-up-${i}`), 1000, cache.epoch);
      expect(cache.size).toBe(3);
      expect(cache.get('instance', d('real'))).toBe('real');
      expect(cache.get('instance', d('made-up-999'))).toBeNull();
      expect(cache.get('instance', d('made-up-0'))).toBeUndefined();
    });

    it('a found result replaces an unknown one and the other way round', () => {
      const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
      cache.setUnknown('instance', d('a'), 1000, cache.epoch);
      cache.set('instance', d('a'), 'a', 1000, ['key:1'], cache.epoch);
      expect(cache.get('instance', d('a'))).toBe('a');
      cache.setUnknown('instance', d('a'), 1000, cache.epoch);
      expect(cache.get('instance', d('a'))).toBeNull();
      expect(cache.size).toBe(1);
    });

    it('refuses to remember an unknown key read before an invalidation', () => {
      const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
      const epoch = cache.epoch;
      cache.invalidate(['key:1']);
      expect(cache.setUnknown('instance', d('a'), 1000, epoch)).toBe(false);
      expect(cache.get('instance', d('a'))).toBeUndefined();
    });

    it('remembers none with a maximum of 0 and still serves found keys', () => {
      const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 0 });
      cache.setUnknown('instance', d('x'), 1000, cache.epoch);
      cache.set('instance', d('a'), 'a', 1000, [], cache.epoch);
      expect(cache.get('instance', d('x'))).toBeUndefined();
      expect(cache.get('instance', d('a'))).toBe('a');
    });
  });

  it('forgets the tags of an entry that expired, so tags cannot pile up', () => {
    const cache = new KeyCheckCache({ maxEntries: 10, maxUnknownEntries: 2 });
    cache.set('instance', d('a'), 'a', 1000, ['key:1'], cache.epoch);
    expect(cache.get('instance', d('a'), Date.now() + 1001)).toBeUndefined();
    expect((cache as unknown as { byTag: Map<string, unknown> }).byTag.size).toBe(0);
  });
});
