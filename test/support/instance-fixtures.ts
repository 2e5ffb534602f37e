import type { TestApp } from './test-app';

export interface TestInstance {
  ref: string;
  id: string;
  /** The plaintext of the instance's first key, `Default`. */
  key: string;
  keyId: string;
}

/** A fresh instance through the admin API, with its first key. */
export async function createInstance(t: TestApp, services: string[] = []): Promise<TestInstance> {
  const res = await t.http().post('/api/admin/instances').set(t.admin).send({ name: 'Test instance', services }).expect(201);
  const { instance, key } = res.body.data;
  return { ref: instance.instanceRef, id: instance.id, key: key.key, keyId: key.id };
}

/** Admin-door path of an instance's keys. */
export const adminKeys = (ref: string, suffix = '') => `/api/admin/instances/${ref}/keys${suffix}`;
