import { sha256 } from '../common/crypto/secrets';
import { generateOperatorToken, OPERATOR_TOKEN_FORMAT, parseOperatorToken } from './operator-token.material';

describe('operator token material', () => {
  it('issues trusset_admin_ + 64 lowercase hex, stored as the digest of the whole string', () => {
    const issued = generateOperatorToken();
    expect(issued.plaintext).toMatch(OPERATOR_TOKEN_FORMAT);
    expect(issued.plaintext).toHaveLength(78);
    expect(issued.digest.equals(sha256(issued.plaintext))).toBe(true);
    expect(issued.prefix).toBe(issued.plaintext.slice(0, 18));
    expect(issued.hint).toBe(issued.plaintext.slice(-4));
  });

  it('never issues the same token twice', () => {
    const seen = new Set(Array.from({ length: 1000 }, () => generateOperatorToken().plaintext));
    expect(seen.size).toBe(1000);
  });

  it('parses a well-formed token to its digest', () => {
    const { plaintext, digest } = generateOperatorToken();
    expect(parseOperatorToken(plaintext)?.equals(digest)).toBe(true);
  });

  it.each([
    ['upper-case hex', () => generateOperatorToken().plaintext.toUpperCase().replace('TRUSSET_ADMIN_', 'trusset_admin_')],
    ['one character short', () => generateOperatorToken().plaintext.slice(0, -1)],
    ['one character long', () => generateOperatorToken().plaintext + 'a'],
    ['two tokens joined', () => generateOperatorToken().plaintext + generateOperatorToken().plaintext],
    ['an instance key', () => `trusset_aB3dE5fG_${'a'.repeat(64)}`],
    ['a MiCA key', () => `trusset_mica_${'a'.repeat(48)}`],
    ['a bare 64-hex management token', () => 'a'.repeat(64)],
    ['a trailing newline', () => generateOperatorToken().plaintext.slice(0, -1) + '\n'],
  ])('refuses %s before any lookup', (_, make) => {
    expect(parseOperatorToken(make())).toBeNull();
  });

  it('refuses values that are not strings', () => {
    for (const v of [undefined, null, 42, ['x'], {}]) expect(parseOperatorToken(v)).toBeNull();
  });
});
