import fc from 'fast-check';
import { canonicalEmail, INVISIBLE_IN_ADDRESS } from './email-canonical';

describe('canonicalEmail', () => {
  it.each([
    ['Ada@Example.com', 'ada@example.com'],
    ['  ada@example.com  ', 'ada@example.com'],
    ['ada+signup@example.com', 'ada@example.com'],
    ['ada+a+b@example.com', 'ada@example.com'],
    ['ａｄａ@ｅｘａｍｐｌｅ.com', 'ada@example.com'],
    ['re\u0301ne@example.com', 'r\u00e9ne@example.com'],
    ['STRASSE@example.com', 'strasse@example.com'],
    ['stra\u00dfe@example.com', 'strasse@example.com'],
  ])('maps %j to %j', (input, expected) => {
    expect(canonicalEmail(input)).toBe(expected);
  });

  it('keeps a leading + (no local part would be left)', () => {
    expect(canonicalEmail('+ada@example.com')).toBe('+ada@example.com');
  });

  it('is idempotent and ignores case and tags for any address', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-zA-Z0-9.]{1,20}$/),
        fc.stringMatching(/^[a-z0-9]{0,10}$/),
        fc.stringMatching(/^[a-z]{1,10}\.[a-z]{2,4}$/),
        (local, tag, domain) => {
          const plain = canonicalEmail(`${local}@${domain}`);
          expect(canonicalEmail(plain)).toBe(plain);
          expect(canonicalEmail(`${local.toUpperCase()}+${tag}@${domain.toUpperCase()}`)).toBe(plain);
        },
      ),
    );
  });
});

describe('INVISIBLE_IN_ADDRESS', () => {
  it.each(['\u200b', '\u00ad', '\u200d', '\u2060', '\ufeff', '\u202e', '\u2066', '\u0000', '\u0085', '\u2028', '\ud800', '\u00a0'])(
    'finds U+%s',
    (c) => {
      expect(INVISIBLE_IN_ADDRESS.test(`ada${c}@example.com`)).toBe(true);
    },
  );

  it('passes ordinary and accented addresses', () => {
    expect(INVISIBLE_IN_ADDRESS.test('ada.lovelace+x@example.com')).toBe(false);
    expect(INVISIBLE_IN_ADDRESS.test('rené@exämple.com')).toBe(false);
  });
});
