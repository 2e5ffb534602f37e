import fc from 'fast-check';
import { addressLimitKey, canonicalAddress, formatIPv6, ipv6Groups } from './client-address';

const group = fc.integer({ min: 0, max: 0xffff });
const groups = fc.array(fc.oneof(group, fc.constant(0)), { minLength: 8, maxLength: 8 });
const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));

/** Every way to write an IPv6 address: full, without leading zeros, upper case, and `::` over any zero run. */
const spellings = (g: number[]): string[] => {
  const out = [g.map((x) => x.toString(16).padStart(4, '0')).join(':'), g.map((x) => x.toString(16).toUpperCase()).join(':')];
  for (let i = 0; i < 8; i++) {
    for (let j = i + 1; j <= 8; j++) {
      if (g.slice(i, j).every((x) => x === 0))
        out.push(
          `${g
            .slice(0, i)
            .map((x) => x.toString(16))
            .join(':')}::${g
            .slice(j)
            .map((x) => x.toString(16))
            .join(':')}`,
        );
    }
  }
  return out;
};

/** Node's WHATWG URL serialises IPv6 hosts the RFC 5952 way: an independent oracle. */
const urlForm = (address: string) => new URL(`http://[${address}]`).hostname.slice(1, -1);

describe('canonicalAddress', () => {
  it.each([
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['0:0:0:0:0:ffff:203.0.113.7', '203.0.113.7'],
    ['2001:0DB8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['203.0.113.7', '203.0.113.7'],
    [undefined, 'unknown'],
    ['  ', 'unknown'],
  ])('writes %j as %j', (raw, expected) => {
    expect(canonicalAddress(raw)).toBe(expected);
  });

  it('agrees with the URL serialiser for every IPv6 address that is not IPv4-mapped, whatever its spelling', () => {
    fc.assert(
      fc.property(groups, (g) => {
        fc.pre(!(g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff));
        const expected = urlForm(formatIPv6(g));
        for (const s of spellings(g)) expect(canonicalAddress(s)).toBe(expected);
      }),
    );
  });

  it('maps every IPv4-mapped spelling to the IPv4 address', () => {
    fc.assert(
      fc.property(ipv4, (v4) => {
        const [a, b, c, d] = v4.split('.').map(Number);
        const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        for (const s of [`::ffff:${v4}`, `::FFFF:${hex}`, `0:0:0:0:0:ffff:${hex}`, `0000:0000:0000:0000:0000:ffff:${v4}`])
          expect(canonicalAddress(s)).toBe(v4);
      }),
    );
  });

  it('is idempotent and never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const once = canonicalAddress(s);
        expect(canonicalAddress(once)).toBe(once);
      }),
    );
  });

  it('refuses malformed IPv6 as groups', () => {
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', ':::']) expect(ipv6Groups(bad)).toBeUndefined();
  });
});

describe('addressLimitKey', () => {
  it('gives every address of one /64 the same key, and addresses of different /64s different keys', () => {
    fc.assert(
      fc.property(groups, fc.array(group, { minLength: 4, maxLength: 4 }), fc.integer({ min: 0, max: 3 }), (g, host, flip) => {
        // An IPv4-mapped address (::ffff:0:0/96) is keyed as the IPv4 address it is (the next test), not by a /64.
        const mapped = (a: number[]) => a.slice(0, 5).every((x) => x === 0) && a[5] === 0xffff;
        fc.pre(!mapped(g) && !mapped([...g.slice(0, 4), ...host]));
        const a = addressLimitKey(formatIPv6(g), 64);
        expect(addressLimitKey(formatIPv6([...g.slice(0, 4), ...host]), 64)).toBe(a);
        const other = [...g];
        other[flip] ^= 1;
        expect(addressLimitKey(formatIPv6(other), 64)).not.toBe(a);
      }),
    );
  });

  it('keys IPv4 and IPv4-mapped addresses alike, by the full address', () => {
    expect(addressLimitKey('::ffff:198.51.100.4', 64)).toBe('198.51.100.4');
    expect(addressLimitKey('198.51.100.4', 64)).toBe('198.51.100.4');
  });

  it('honours other prefixes', () => {
    expect(addressLimitKey('2001:db8:aaaa:bbbb:1:2:3:4', 48)).toBe('2001:db8:aaaa::/48');
    expect(addressLimitKey('2001:db8:aaaa:bbbb:1:2:3:4', 56)).toBe('2001:db8:aaaa:bb00::/56');
    expect(addressLimitKey('2001:db8:aaaa:bbbb:1:2:3:4', 128)).toBe('2001:db8:aaaa:bbbb:1:2:3:4/128');
  });
});
