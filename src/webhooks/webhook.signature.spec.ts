import { Webhook } from 'standardwebhooks';
import { messageIdOf, newSigningKey, secretOf, signatureHeader } from './webhook.signature';

describe('webhook signatures', () => {
  it('formats the secret as whsec_ + base64 of 32 random bytes', () => {
    const key = newSigningKey();
    expect(key).toHaveLength(32);
    expect(secretOf(key)).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secretOf(key).slice(6), 'base64').equals(key)).toBe(true);
    expect(newSigningKey().equals(key)).toBe(false);
  });

  it('signs exactly as the reference library does, and the reference library verifies it', () => {
    const key = newSigningKey();
    const id = messageIdOf('2b5a0c3e-9f1d-4c6a-8b7e-0d1f2a3b4c5d');
    expect(id).toBe('msg_2b5a0c3e9f1d4c6a8b7e0d1f2a3b4c5d');
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ type: 'key.revoked', timestamp: new Date().toISOString(), data: { key: { id: 'k' } } });
    const ours = signatureHeader([key], id, ts, body);
    expect(ours).toBe(new Webhook(secretOf(key)).sign(id, new Date(ts * 1000), body));
    expect(
      new Webhook(secretOf(key)).verify(body, { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': ours }),
    ).toEqual(JSON.parse(body));
  });

  it('puts one signature per key, space-separated, each verifiable alone; a changed body fails', () => {
    const [a, b] = [newSigningKey(), newSigningKey()];
    const ts = Math.floor(Date.now() / 1000);
    const header = signatureHeader([a, b], 'msg_1', ts, '{"x":1}');
    expect(header.split(' ')).toHaveLength(2);
    for (const key of [a, b]) {
      expect(
        new Webhook(secretOf(key)).verify('{"x":1}', {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(ts),
          'webhook-signature': header,
        }),
      ).toEqual({ x: 1 });
      expect(() =>
        new Webhook(secretOf(key)).verify('{"x":2}', {
          'webhook-id': 'msg_1',
          'webhook-timestamp': String(ts),
          'webhook-signature': header,
        }),
      ).toThrow();
    }
    expect(() =>
      new Webhook(secretOf(newSigningKey())).verify('{"x":1}', {
        'webhook-id': 'msg_1',
        'webhook-timestamp': String(ts),
        'webhook-signature': header,
      }),
    ).toThrow();
  });
});
