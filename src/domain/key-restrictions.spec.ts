import { canonicalCidrs, effectiveServices, grantExceeds, UNRESTRICTED } from './key-restrictions';

describe('key restrictions', () => {
  it('reaches only the services both the instance and the key have', () => {
    expect(effectiveServices(['trading', 'custody'], null)).toEqual(['trading', 'custody']);
    expect(effectiveServices(['custody', 'trading'], ['trading', 'lending'])).toEqual(['trading']);
    expect(effectiveServices(['trading'], [])).toEqual([]);
  });

  it('canonicalises and de-duplicates ranges, and names the entries that are not ranges', () => {
    expect(canonicalCidrs(['10.1.2.3/8', '10.0.0.0/8', '::FFFF:192.0.2.1', '2001:DB8::/32'])).toEqual({
      cidrs: ['10.0.0.0/8', '192.0.2.1/32', '2001:db8::/32'],
    });
    expect(canonicalCidrs(['10.0.0.0/8', 'nope'])).toEqual({
      details: { allowedCidrs: ['"nope" is not an IPv4 or IPv6 address or CIDR range'] },
    });
  });

  it('lets an unrestricted key grant anything', () => {
    expect(grantExceeds(UNRESTRICTED, ['trading'], UNRESTRICTED, ['trading'])).toEqual([]);
  });

  it('refuses a grant wider than the acting key, field by field', () => {
    const acting = { services: ['trading' as const], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 50 };
    expect(grantExceeds(acting, ['trading'], acting, ['trading'])).toEqual([]);
    expect(grantExceeds(acting, ['trading'], { ...acting, allowedCidrs: ['10.1.0.0/16'], rateLimitPerMinute: 10 }, ['trading'])).toEqual(
      [],
    );
    expect(grantExceeds(acting, ['trading'], { ...acting, services: null }, ['trading', 'custody'])).toHaveLength(1);
    expect(grantExceeds(acting, ['trading'], { ...acting, allowedCidrs: null }, ['trading'])).toHaveLength(1);
    expect(grantExceeds(acting, ['trading'], { ...acting, allowedCidrs: ['11.0.0.0/8'] }, ['trading'])).toHaveLength(1);
    expect(grantExceeds(acting, ['trading'], { ...acting, rateLimitPerMinute: null }, ['trading'])).toHaveLength(1);
    expect(grantExceeds(acting, ['trading'], { ...acting, rateLimitPerMinute: 51 }, ['trading'])).toHaveLength(1);
  });
});
