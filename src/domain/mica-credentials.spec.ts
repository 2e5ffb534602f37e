import { sha256 } from '../common/crypto/secrets';
import { MANAGEMENT_TOKEN_FORMAT, MICA_KEY_FORMAT, newManagementToken, newMicaKey } from './mica-credentials';

describe('MiCA credentials', () => {
  it('makes 61-character keys with a 22-character display prefix and a 4-character hint', () => {
    const key = newMicaKey();
    expect(key.plaintext).toMatch(MICA_KEY_FORMAT);
    expect(key.plaintext).toHaveLength(61);
    expect(key.prefix).toBe(key.plaintext.slice(0, 22));
    expect(key.hint).toBe(key.plaintext.slice(-4));
    expect(key.digest.equals(sha256(key.plaintext))).toBe(true);
  });

  it('makes 64-hex management tokens stored only as the digest of the whole token', () => {
    const token = newManagementToken();
    expect(token.plaintext).toMatch(MANAGEMENT_TOKEN_FORMAT);
    expect(token.digest.equals(sha256(token.plaintext))).toBe(true);
  });

  it('never repeats a credential', () => {
    const keys = new Set(Array.from({ length: 200 }, () => newMicaKey().plaintext));
    expect(keys.size).toBe(200);
  });

  it.each([
    'trusset_mica_' + 'A'.repeat(48),
    'trusset_mica_' + 'a'.repeat(47),
    'trusset_mica_' + 'a'.repeat(49),
    'trusset_mica_' + 'a'.repeat(48) + 'trusset_mica_' + 'a'.repeat(48),
    ' trusset_mica_' + 'a'.repeat(48),
  ])('refuses the malformed key %p', (key) => {
    expect(MICA_KEY_FORMAT.test(key)).toBe(false);
  });
});
