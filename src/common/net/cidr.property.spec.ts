import fc from 'fast-check';
import { allowedBy, contains, formatCidr, formatIp, parseCidr, parseIp, within } from './cidr';

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const v6Groups = fc.array(fc.nat(0xffff), { minLength: 8, maxLength: 8 });
const v6 = v6Groups.map((g) => g.map((x) => x.toString(16)).join(':'));

describe('CIDR parsing (property-tested)', () => {
  it('treats /0 as every address of its family and nothing of the other', () => {
    fc.assert(
      fc.property(v4, v6, (a4, a6) => {
        const any4 = parseCidr('0.0.0.0/0')!;
        const any6 = parseCidr('::/0')!;
        const ip4 = parseIp(a4)!;
        const ip6 = parseIp(a6)!;
        expect(contains(any4, ip4)).toBe(true);
        if (ip6.version === 6) {
          expect(contains(any6, ip6)).toBe(true);
          expect(contains(any4, ip6)).toBe(false);
        }
        expect(contains(any6, ip4)).toBe(false);
      }),
    );
  });

  it('makes /32 and /128 (and a bare address) match that one address only', () => {
    fc.assert(
      fc.property(v4, v4, (a, b) => {
        const single = parseCidr(`${a}/32`)!;
        expect(parseCidr(a)).toEqual(single);
        expect(contains(single, parseIp(a)!)).toBe(true);
        expect(contains(single, parseIp(b)!)).toBe(a === b);
      }),
    );
    fc.assert(
      fc.property(v6, v6, (a, b) => {
        const single = parseCidr(`${a}/128`)!;
        expect(parseCidr(a)).toEqual(single);
        expect(allowedBy([single], a)).toBe(true);
        expect(allowedBy([single], b)).toBe(parseIp(a)!.value === parseIp(b)!.value && parseIp(a)!.version === parseIp(b)!.version);
      }),
    );
  });

  it('canonicalises: the formatted range parses back to itself and clears host bits', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          v4.chain((a) => fc.nat(32).map((p) => `${a}/${p}`)),
          v6.chain((a) => fc.nat(128).map((p) => `${a}/${p}`)),
        ),
        (text) => {
          const cidr = parseCidr(text)!;
          expect(cidr).not.toBeNull();
          const canonical = formatCidr(cidr);
          expect(parseCidr(canonical)).toEqual(cidr);
          expect(formatCidr(parseCidr(canonical)!)).toBe(canonical);
          // The address the range was written with is inside the canonical range.
          expect(allowedBy([cidr], text.split('/')[0])).toBe(true);
        },
      ),
    );
  });

  it('matches exactly the addresses that share the prefix bits', () => {
    fc.assert(
      fc.property(fc.nat(0xffffffff), fc.nat(0xffffffff), fc.nat(32), (net, addr, prefix) => {
        const cidr = parseCidr(`${formatIp({ version: 4, value: BigInt(net) })}/${prefix}`)!;
        const shift = 32 - prefix;
        const same = prefix === 0 || Math.floor(net / 2 ** shift) === Math.floor(addr / 2 ** shift);
        expect(contains(cidr, { version: 4, value: BigInt(addr) })).toBe(same);
      }),
    );
  });

  it('treats an IPv4-mapped IPv6 address as its IPv4 address, and a mapped range as its IPv4 range', () => {
    fc.assert(
      fc.property(v4, fc.nat(32), (a, prefix) => {
        const range = parseCidr(`${a}/${prefix}`)!;
        expect(allowedBy([range], `::ffff:${a}`)).toBe(true);
        expect(allowedBy([range], `::FFFF:${a}`)).toBe(true);
        expect(parseIp(`::ffff:${a}`)).toEqual(parseIp(a));
        expect(parseCidr(`::ffff:${a}/${96 + prefix}`)).toEqual(range);
      }),
    );
    expect(formatCidr(parseCidr('::ffff:10.1.2.3/104')!)).toBe('10.0.0.0/8');
    // Not mapped: ::10.1.2.3 (the deprecated IPv4-compatible form) stays IPv6.
    expect(parseIp('::10.1.2.3')!.version).toBe(6);
  });

  it('refuses garbage of any shape', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (s) => {
        const cidr = parseCidr(s);
        // Whatever parses is a real range whose canonical form parses to the same range.
        if (cidr) expect(parseCidr(formatCidr(cidr))).toEqual(cidr);
      }),
    );
    for (const bad of [
      '',
      ' ',
      '10.0.0.0/',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/-1',
      '10.0.0.0/+8',
      '10.0.0.0/08',
      '10.0.0.256/8',
      '1.2.3',
      '01.2.3.4/32',
      'fe80::1%eth0/64',
      '10.0.0.0/8/8',
      'a.b.c.d',
      '::gggg/64',
      '1.2.3.4 /32',
      null,
      42,
      {},
    ]) {
      expect(parseCidr(bad)).toBeNull();
    }
    for (const bad of ['', 'localhost', '1.2.3.4/32', '::ffff:1.2.3', undefined]) expect(parseIp(bad)).toBeNull();
  });

  it('knows when one range lies within another', () => {
    expect(within(parseCidr('10.1.0.0/16')!, parseCidr('10.0.0.0/8')!)).toBe(true);
    expect(within(parseCidr('10.0.0.0/8')!, parseCidr('10.1.0.0/16')!)).toBe(false);
    expect(within(parseCidr('2001:db8:1::/48')!, parseCidr('2001:db8::/32')!)).toBe(true);
    expect(within(parseCidr('10.0.0.0/8')!, parseCidr('::/0')!)).toBe(false);
    fc.assert(
      fc.property(v4, fc.nat(32), fc.nat(32), (a, p, q) => {
        const [outer, inner] = [parseCidr(`${a}/${Math.min(p, q)}`)!, parseCidr(`${a}/${Math.max(p, q)}`)!];
        expect(within(inner, outer)).toBe(true);
      }),
    );
  });

  it('writes IPv6 ranges in RFC 5952 form', () => {
    expect(formatCidr(parseCidr('2001:0DB8:0000:0000:0000:0000:0000:0001/128')!)).toBe('2001:db8::1/128');
    expect(formatCidr(parseCidr('2001:db8:0:0:1:0:0:1/128')!)).toBe('2001:db8::1:0:0:1/128');
    expect(formatCidr(parseCidr('2001:db8:0:1:1:1:1:1/128')!)).toBe('2001:db8:0:1:1:1:1:1/128');
    expect(formatCidr(parseCidr('::/0')!)).toBe('::/0');
  });
});
