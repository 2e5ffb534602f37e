import fc from 'fast-check';
import { parseInstanceKey } from './instance-key.material';
import { MANAGEMENT_TOKEN_FORMAT, MICA_KEY_FORMAT, MICA_KEY_PREFIX } from './mica-credentials';
import { sha256 } from '../common/crypto/secrets';
import { parseBearer } from '../common/http/bearer';

/*
 * Property-based proof that the credential parsers are total (never throw) and exact (accept a
 * string iff it is in format). The oracles below check the formats character by character, written
 * independently of the regular expressions they judge, so a regex slip (a missing anchor, a wider
 * class, a trailing-newline `$`) shows up as a disagreement.
 */

const RUNS = { numRuns: 300 };
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

const allIn = (s: string, alphabet: string) => [...s].every((c) => alphabet.includes(c)) && s.length === [...s].length;

function isInstanceKeyByHand(s: string): boolean {
  return s.length === 81 && s.startsWith('trusset_') && allIn(s.slice(8, 16), ALNUM) && s[16] === '_' && allIn(s.slice(17), HEX);
}
const isMicaKeyByHand = (s: string) => s.length === 13 + 48 && s.startsWith('trusset_mica_') && allIn(s.slice(13), HEX);
const isManagementTokenByHand = (s: string) => s.length === 64 && allIn(s, HEX);

const hex = (n: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: n, maxLength: n });
const ref = fc.string({ unit: fc.constantFrom(...ALNUM), minLength: 8, maxLength: 8 });
const validInstanceKey = fc.tuple(ref, hex(64)).map(([r, h]) => `trusset_${r}_${h}`);
const validMicaKey = hex(48).map((h) => MICA_KEY_PREFIX + h);
const validToken = hex(64);

/** Characters that make near-misses: upper-case hex, separators, white space of every kind, NUL, non-ASCII. */
const nasty = fc.constantFrom(
  'A',
  'F',
  'g',
  'G',
  '_',
  '-',
  '.',
  ' ',
  '\t',
  '\n',
  '\r',
  '\0',
  '\u00a0',
  '\u2028',
  '\ufeff',
  'é',
  '０',
  '\u{1F511}',
  'ſ',
  'K',
);

/** A valid string turned into a near miss: one character dropped, added, replaced, or the case changed. */
function nearMiss(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(valid, fc.nat()).map(([s, i]) => s.slice(0, i % s.length) + s.slice((i % s.length) + 1)),
    fc.tuple(valid, fc.nat(), nasty).map(([s, i, c]) => s.slice(0, i % (s.length + 1)) + c + s.slice(i % (s.length + 1))),
    fc.tuple(valid, fc.nat(), nasty).map(([s, i, c]) => s.slice(0, i % s.length) + c + s.slice((i % s.length) + 1)),
    fc.tuple(valid, fc.nat()).map(([s, i]) => s.slice(0, i % s.length) + s.slice(i % s.length).toUpperCase()),
    valid.map((s) => `${s}\n`),
    valid.map((s) => ` ${s}`),
    fc.tuple(valid, valid).map(([a, b]) => a + b),
  );
}

/** Anything: arbitrary unicode, the valid form, and its near misses. */
const anyString = (valid: fc.Arbitrary<string>) =>
  fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.string({ unit: 'binary', maxLength: 100 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    valid,
    nearMiss(valid),
  );

describe('parseInstanceKey (property)', () => {
  it('parses exactly the strings in the key format, never throwing, with the digest of the whole key', () => {
    fc.assert(
      fc.property(anyString(validInstanceKey), (s) => {
        const parsed = parseInstanceKey(s);
        expect(parsed !== null).toBe(isInstanceKeyByHand(s));
        if (parsed) {
          expect(parsed.instanceRef).toBe(s.slice(8, 16));
          expect(parsed.digest.equals(sha256(s))).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('refuses every near miss of a valid key', () => {
    fc.assert(
      fc.property(nearMiss(validInstanceKey), (s) => {
        fc.pre(!isInstanceKeyByHand(s));
        expect(parseInstanceKey(s)).toBeNull();
      }),
      RUNS,
    );
  });

  it('refuses anything that is not a string', () => {
    fc.assert(
      fc.property(fc.anything(), (v) => {
        fc.pre(typeof v !== 'string');
        expect(parseInstanceKey(v)).toBeNull();
      }),
      { numRuns: 100 },
    );
  });
});

describe('MiCA credential formats (property)', () => {
  it('match a MiCA key exactly when it is trusset_mica_ and 48 lower-case hex', () => {
    fc.assert(
      fc.property(anyString(validMicaKey), (s) => expect(MICA_KEY_FORMAT.test(s)).toBe(isMicaKeyByHand(s))),
      RUNS,
    );
  });

  it('match a management token exactly when it is 64 lower-case hex', () => {
    fc.assert(
      fc.property(anyString(validToken), (s) => expect(MANAGEMENT_TOKEN_FORMAT.test(s)).toBe(isManagementTokenByHand(s))),
      RUNS,
    );
  });

  it('never take an instance key for a MiCA key or a token, nor the other way round', () => {
    fc.assert(
      fc.property(validInstanceKey, validMicaKey, validToken, (instanceKey, micaKey, token) => {
        expect(MICA_KEY_FORMAT.test(instanceKey) || MANAGEMENT_TOKEN_FORMAT.test(instanceKey)).toBe(false);
        expect(parseInstanceKey(micaKey) ?? parseInstanceKey(token)).toBeNull();
        expect(MANAGEMENT_TOKEN_FORMAT.test(micaKey) || MICA_KEY_FORMAT.test(token)).toBe(false);
      }),
      { numRuns: 100 },
    );
  });
});

describe('parseBearer (property)', () => {
  const isSpace = (c: string) => /\s/.test(c);
  /** `bearer` in any ASCII case, one or more spaces, one run of non-white-space, trailing spaces only. */
  function bearerByHand(h: string): string | null {
    if (h.slice(0, 6).toLowerCase() !== 'bearer' || !/^[A-Za-z]{6}$/.test(h.slice(0, 6))) return null;
    let i = 6;
    while (h[i] === ' ') i++;
    if (i === 6) return null;
    let j = i;
    while (j < h.length && !isSpace(h[j])) j++;
    if (j === i) return null;
    for (let k = j; k < h.length; k++) if (h[k] !== ' ') return null;
    return h.slice(i, j);
  }

  const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR', 'Basic', 'Bearer:', 'Beare', 'Bearerr', 'Token', '');
  const gap = fc.constantFrom('', ' ', '  ', '\t', '\u00a0', '\n', ' \r\n ');
  const header = fc.oneof(
    fc.tuple(scheme, gap, fc.oneof(validToken, validMicaKey, validInstanceKey, fc.string({ maxLength: 40 })), gap).map((p) => p.join('')),
    fc.string({ maxLength: 80 }),
    fc.string({ unit: 'grapheme', maxLength: 80 }),
  );

  it('takes a token exactly from `Bearer <token>`, never throwing', () => {
    fc.assert(
      fc.property(header, (h) => {
        const expected = bearerByHand(h);
        expect(parseBearer(h)).toEqual(expected === null ? { ok: false } : { ok: true, token: expected });
      }),
      RUNS,
    );
  });

  it('refuses repeated headers and non-strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(header, { minLength: 0, maxLength: 3 }), fc.constant(undefined)), (h) => {
        expect(parseBearer(h)).toEqual({ ok: false });
      }),
      { numRuns: 100 },
    );
  });
});
