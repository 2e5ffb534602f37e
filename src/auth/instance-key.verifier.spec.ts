import { decide, KeyCheckRow } from './instance-key.verifier';

const now = new Date('2026-11-27T12:00:00.000Z');
const later = new Date(now.getTime() + 1000);
const earlier = new Date(now.getTime() - 1000);

const row = (over: Partial<KeyCheckRow> = {}): KeyCheckRow => ({
  digest: Buffer.alloc(32),
  key_id: 'k1',
  key_status: 'ACTIVE',
  expires_at: null,
  paused_until: null,
  instance_id: 'i1',
  instance_ref: 'aB3dE5fG',
  instance_status: 'ACTIVE',
  services: ['trading'],
  key_services: null,
  allowed_cidrs: null,
  rate_limit_per_minute: null,
  now,
  ...over,
});

describe('instance key decision', () => {
  it('admits an ACTIVE key of an active instance with its identity', () => {
    expect(decide(row(), 'aB3dE5fG')).toEqual({
      outcome: 'valid',
      identity: {
        keyId: 'k1',
        instanceId: 'i1',
        instanceRef: 'aB3dE5fG',
        services: ['trading'],
        keyStatus: 'ACTIVE',
        allowedCidrs: null,
        rateLimitPerMinute: null,
      },
    });
  });

  it("answers the key's effective services (its subset of the instance's) and its own restrictions", () => {
    const check = decide(
      row({
        services: ['trading', 'custody'],
        key_services: ['custody', 'lending'],
        allowed_cidrs: ['10.0.0.0/8'],
        rate_limit_per_minute: 5,
      }),
      'aB3dE5fG',
    );
    expect(check).toMatchObject({
      outcome: 'valid',
      identity: { services: ['custody'], rateLimitPerMinute: 5, allowedCidrs: [{ version: 4, prefix: 8 }] },
    });
  });

  it('admits a PENDING_ROTATION key until its overlap ends, and a key whose pause is over', () => {
    expect(decide(row({ key_status: 'PENDING_ROTATION', expires_at: later }), 'aB3dE5fG')).toMatchObject({
      identity: { keyStatus: 'PENDING_ROTATION' },
    });
    expect(decide(row({ key_status: 'PAUSED', paused_until: earlier }), 'aB3dE5fG')).toMatchObject({ identity: { keyStatus: 'ACTIVE' } });
  });

  it.each<[string, KeyCheckRow | undefined, string?]>([
    ['an unknown key', undefined],
    ['a key presented under another ref', row(), 'ZZZZZZZZ'],
    ['a key of an archived instance', row({ instance_status: 'ARCHIVED' })],
    ['a revoked key', row({ key_status: 'REVOKED' })],
    ['an expired key', row({ expires_at: now })],
    ['a key whose overlap is over', row({ key_status: 'PENDING_ROTATION', expires_at: earlier })],
    ['a paused key', row({ key_status: 'PAUSED', paused_until: later })],
  ])('refuses %s', (_, r, ref = 'aB3dE5fG') => {
    expect(decide(r, ref)).toEqual({ outcome: 'failed' });
  });
});
