import { sha256 } from '../common/crypto/secrets';
import { generateInstanceKey, parseInstanceKey } from './instance-key.material';

const hex64 = 'a'.repeat(64);

describe('instance key material', () => {
  it('issues an 81-character key whose digest is that of the whole string', () => {
    const k = generateInstanceKey('aB3dE5fG');
    expect(k.plaintext).toMatch(/^trusset_aB3dE5fG_[0-9a-f]{64}$/);
    expect(k.plaintext).toHaveLength(81);
    expect(k.digest.equals(sha256(k.plaintext))).toBe(true);
    expect(k.plaintext.startsWith(k.prefix)).toBe(true);
    expect(k.plaintext.endsWith(k.hint)).toBe(true);
    expect(k.prefix.length + k.hint.length).toBeLessThan(40);
  });

  it('never issues the same secret twice', () => {
    const seen = new Set(Array.from({ length: 200 }, () => generateInstanceKey('aB3dE5fG').plaintext));
    expect(seen.size).toBe(200);
  });

  it('parses a well-formed key into its ref and digest', () => {
    const key = `trusset_aB3dE5fG_${hex64}`;
    expect(parseInstanceKey(key)).toEqual({ instanceRef: 'aB3dE5fG', digest: sha256(key) });
  });

  it.each([
    ['empty', ''],
    ['80 characters', `trusset_aB3dE5fG_${'a'.repeat(63)}`],
    ['82 characters', `trusset_aB3dE5fG_${'a'.repeat(65)}`],
    ['upper-case hex', `trusset_aB3dE5fG_${'A'.repeat(64)}`],
    ['a MiCA key', `trusset_mica_${'a'.repeat(48)}`],
    ['two keys joined', `trusset_aB3dE5fG_${hex64}, trusset_aB3dE5fG_${hex64}`],
    ['a 7-character ref', `trusset_aB3dE5f_${hex64}a`],
    ['a ref with a symbol', `trusset_aB3dE5-G_${hex64}`],
    ['another prefix', `trussex_aB3dE5fG_${hex64}`],
    ['surrounding space', ` trusset_aB3dE5fG_${'a'.repeat(63)}`],
    ['a trailing newline', `trusset_aB3dE5fG_${'a'.repeat(63)}\n`],
    ['not a string', ['x']],
  ])('refuses %s', (_, value) => {
    expect(parseInstanceKey(value)).toBeNull();
  });
});
