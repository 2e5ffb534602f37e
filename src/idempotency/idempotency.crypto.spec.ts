import { canonicalJson, IdempotencyCrypto, IDEMPOTENCY_KEY_FORMAT } from './idempotency.crypto';

describe('idempotency cryptography', () => {
  const secret = 'a-server-secret-of-at-least-32-characters';
  const crypto = new IdempotencyCrypto(secret);
  const id = crypto.recordId('admin', 'retry-1');

  it('opens a sealed answer with the same secret and idempotency key', () => {
    const sealed = crypto.seal('admin', 'retry-1', id, '{"key":"s3cret"}');
    expect(sealed.includes(Buffer.from('s3cret'))).toBe(false);
    expect(crypto.open('admin', 'retry-1', id, sealed)).toBe('{"key":"s3cret"}');
  });

  it('does not open with another idempotency key, principal, server secret or record, nor when tampered with', () => {
    const sealed = crypto.seal('admin', 'retry-1', id, 'answer');
    expect(crypto.open('admin', 'retry-2', id, sealed)).toBeNull();
    expect(crypto.open('instance_key:x', 'retry-1', id, sealed)).toBeNull();
    expect(new IdempotencyCrypto(`${secret}-other`).open('admin', 'retry-1', id, sealed)).toBeNull();
    expect(crypto.open('admin', 'retry-1', crypto.recordId('admin', 'retry-3'), sealed)).toBeNull();
    const tampered = Buffer.from(sealed);
    tampered[tampered.length - 1] ^= 1;
    expect(crypto.open('admin', 'retry-1', id, tampered)).toBeNull();
    expect(crypto.open('admin', 'retry-1', id, Buffer.alloc(5))).toBeNull();
  });

  it('names records per principal and per server secret', () => {
    expect(crypto.recordId('admin', 'k').equals(crypto.recordId('admin', 'k'))).toBe(true);
    expect(crypto.recordId('admin', 'k').equals(crypto.recordId('developer:d', 'k'))).toBe(false);
    expect(crypto.recordId('admin', 'k').equals(new IdempotencyCrypto(`${secret}-other`).recordId('admin', 'k'))).toBe(false);
  });

  it('fingerprints method, path and body, ignoring key order only', () => {
    const fp = crypto.fingerprint('POST', '/api/keys', { name: 'a', expiresAt: null });
    expect(fp.equals(crypto.fingerprint('POST', '/api/keys', { expiresAt: null, name: 'a' }))).toBe(true);
    expect(fp.equals(crypto.fingerprint('POST', '/api/keys', { name: 'b', expiresAt: null }))).toBe(false);
    expect(fp.equals(crypto.fingerprint('POST', '/api/other', { name: 'a', expiresAt: null }))).toBe(false);
    expect(crypto.fingerprint('POST', '/p', undefined).equals(crypto.fingerprint('POST', '/p', {}))).toBe(true);
    expect(canonicalJson({ b: [2, { d: 1, c: 0 }], a: 'x' })).toBe('{"a":"x","b":[2,{"c":0,"d":1}]}');
  });

  it('accepts 1–255 visible ASCII characters as an Idempotency-Key', () => {
    expect(IDEMPOTENCY_KEY_FORMAT.test('a')).toBe(true);
    expect(IDEMPOTENCY_KEY_FORMAT.test('x'.repeat(255))).toBe(true);
    for (const bad of ['', 'x'.repeat(256), 'has space', 'tab\t', 'é']) expect(IDEMPOTENCY_KEY_FORMAT.test(bad)).toBe(false);
  });
});
