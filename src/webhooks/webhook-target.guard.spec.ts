import { isForbiddenAddress, refuseUrl } from './webhook-target.guard';

const strict = { allowHttp: false, allowPrivateTargets: false };

describe('webhook target guard', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fc00::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::a9fe:a9fe',
    '2002:7f00:1::',
  ])('refuses the address %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(isForbiddenAddress(address)).toBe(false);
    },
  );

  it('refuses http, credentials, localhost and literal private addresses, and allows a public https URL', () => {
    expect(refuseUrl('http://example.com/hook', strict)).toBe('must use https');
    expect(refuseUrl('ftp://example.com/hook', strict)).toBe('must use https');
    expect(refuseUrl('https://user:pw@example.com/hook', strict)).toBe('must not carry credentials');
    expect(refuseUrl('https://localhost/hook', strict)).toBe('must not name a loopback address');
    expect(refuseUrl('https://LOCALHOST./hook', strict)).toBe('must not name a loopback address');
    expect(refuseUrl('https://api.localhost/hook', strict)).toBe('must not name a loopback address');
    expect(refuseUrl('https://127.0.0.1/hook', strict)).toMatch(/private/);
    expect(refuseUrl('https://[::1]/hook', strict)).toMatch(/private/);
    expect(refuseUrl('https://[::ffff:10.0.0.1]/hook', strict)).toMatch(/private/);
    expect(refuseUrl('https://2130706433/hook', strict)).toMatch(/private/);
    expect(refuseUrl('https://0x7f.1/hook', strict)).toMatch(/private/);
    expect(refuseUrl('not a url', strict)).toBe('must be an absolute URL');
    expect(refuseUrl('https://hooks.example.com/trusset', strict)).toBeUndefined();
  });

  it('lifts the checks only as far as the flags say', () => {
    expect(refuseUrl('http://127.0.0.1:8080/hook', { allowHttp: true, allowPrivateTargets: false })).toMatch(/private/);
    expect(refuseUrl('https://127.0.0.1:8080/hook', { allowHttp: false, allowPrivateTargets: true })).toBeUndefined();
    expect(refuseUrl('http://127.0.0.1:8080/hook', { allowHttp: true, allowPrivateTargets: true })).toBeUndefined();
  });
});
