import { randomAlphanumeric, randomHex, secretsEqual, sha256 } from './secrets';

describe('secrets', () => {
  it('hashes to a 32-byte SHA-256 digest', () => {
    expect(sha256('abc').toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('generates lower-case hex of the requested length', () => {
    for (const n of [1, 48, 64]) expect(randomHex(n)).toMatch(new RegExp(`^[0-9a-f]{${n}}$`));
    expect(randomHex(64)).not.toBe(randomHex(64));
  });

  it('generates alphanumeric strings of the requested length', () => {
    expect(randomAlphanumeric(8)).toMatch(/^[A-Za-z0-9]{8}$/);
  });

  it('compares secrets of any length without throwing', () => {
    expect(secretsEqual('a'.repeat(64), 'a'.repeat(64))).toBe(true);
    expect(secretsEqual('short', 'a'.repeat(64))).toBe(false);
    expect(secretsEqual('', 'a')).toBe(false);
  });
});
