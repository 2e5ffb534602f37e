import type { InstanceKeyIdentity } from '../auth/instance-key.verifier';
import { successJson } from './verify.answer';

const identity = (over: Partial<InstanceKeyIdentity> = {}): InstanceKeyIdentity => ({
  keyId: '6f0c2a4e-1b7d-4c1e-9a55-2d8f3b9e7c10',
  instanceId: '0b6c6f0e-5f4e-4a8e-8c1b-8b1f6a3e2d47',
  instanceRef: 'Ab3dE5gH',
  services: ['trading', 'customers'],
  keyStatus: 'ACTIVE',
  allowedCidrs: null,
  rateLimitPerMinute: null,
  ...over,
});

/** What the route answered before the body was assembled from a kept prefix. */
function reference(i: InstanceKeyIdentity, requestId: string, timestamp: string): string {
  const order = ['customers', 'tokenization', 'trading', 'lending', 'custody'];
  const services = [...i.services].sort((a, b) => order.indexOf(a) - order.indexOf(b));
  return JSON.stringify({
    success: true,
    data: { instanceRef: i.instanceRef, instanceId: i.instanceId, keyId: i.keyId, keyStatus: i.keyStatus, services },
    metadata: { requestId, timestamp },
  });
}

describe('successJson', () => {
  it('writes exactly what JSON.stringify of the envelope writes, services in declared order', () => {
    const body = successJson(identity(), 'req-12345678');
    const { metadata } = JSON.parse(body) as { metadata: { timestamp: string } };
    expect(body).toBe(reference(identity(), 'req-12345678', metadata.timestamp));
  });

  it('follows a change of the key (a new status or fewer services) instead of replaying the kept prefix', () => {
    successJson(identity(), 'req-aaaaaaaa');
    const changed = identity({ keyStatus: 'PENDING_ROTATION', services: ['trading'] });
    const body = successJson(changed, 'req-bbbbbbbb');
    const parsed = JSON.parse(body) as { data: { keyStatus: string; services: string[] }; metadata: { timestamp: string } };
    expect(parsed.data).toMatchObject({ keyStatus: 'PENDING_ROTATION', services: ['trading'] });
    expect(body).toBe(reference(changed, 'req-bbbbbbbb', parsed.metadata.timestamp));
  });
});
