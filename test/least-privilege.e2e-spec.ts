import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { expectServedFromCache, pinClockInsideOneMinute, pollUntil } from './support/scale-helpers';
import { LIMITS_OUT_OF_REACH, onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { KeyCheckCache } from '../src/key-cache/key-check.cache';
import { KeyInvalidationService } from '../src/key-cache/key-invalidation.service';
import { InstanceKeysService } from '../src/instance-keys/instance-keys.service';

/**
 * SPEC §12: a key narrower than its instance. The test client is 127.0.0.1, and the app trusts it
 * as a proxy (TRUST_PROXY=loopback), so X-Forwarded-For sets the client address a gateway would
 * forward; the address of a request sent without it is 127.0.0.1.
 */
const ENV = {
  TRUST_PROXY: 'loopback',
  RATE_LIMIT_PER_KEY_PER_MINUTE: '100',
  RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '1000000',
  RATE_LIMIT_STRICT_PER_MINUTE: '1000000',
};

describe('least-privilege keys (SPEC §12)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ENV);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const verify = (key: string, from?: string, service?: string) => {
    const req = t
      .http()
      .get('/api/auth/verify')
      .query(service ? { service } : {})
      .set('X-API-Key', key);
    return from ? req.set('X-Forwarded-For', from) : req;
  };
  const codeOf = (res: { status: number; body: { error?: { code: string } } }) => [res.status, res.body.error?.code ?? 'OK'];
  const adminCreate = (inst: TestInstance, body: object) =>
    t
      .http()
      .post(adminKeys(inst.ref))
      .set(t.admin)
      .send({ name: 'narrow', ...body });
  const adminPatch = (inst: TestInstance, keyId: string, body: object) =>
    t
      .http()
      .patch(adminKeys(inst.ref, `/${keyId}`))
      .set(t.admin)
      .send(body);

  describe('setting restrictions', () => {
    it('stores canonical ranges and the subset of services, and shows them on the key', async () => {
      const inst = await createInstance(t, ['trading', 'custody', 'lending']);
      const res = await adminCreate(inst, {
        services: ['lending', 'trading'],
        allowedCidrs: ['10.1.2.3/8', '10.0.0.0/8', '::FFFF:192.0.2.7', '2001:DB8:0:0::/32'],
        rateLimitPerMinute: 7,
      }).expect(201);
      expect(res.body.data).toMatchObject({
        services: ['trading', 'lending'],
        allowedCidrs: ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32'],
        rateLimitPerMinute: 7,
      });
      const got = await t
        .http()
        .get(adminKeys(inst.ref, `/${res.body.data.id}`))
        .set(t.admin)
        .expect(200);
      expect(got.body.data).toMatchObject({
        services: ['trading', 'lending'],
        allowedCidrs: ['10.0.0.0/8', '192.0.2.7/32', '2001:db8::/32'],
        rateLimitPerMinute: 7,
      });
      const first = await t
        .http()
        .get(adminKeys(inst.ref, `/${inst.keyId}`))
        .set(t.admin)
        .expect(200);
      expect(first.body.data).toMatchObject({ services: null, allowedCidrs: null, rateLimitPerMinute: null });
    });

    it.each<[string, object, string]>([
      ['a service the instance lacks', { services: ['custody'] }, 'services'],
      ['a service that does not exist', { services: ['payments'] }, 'services'],
      ['a range that is not one', { allowedCidrs: ['10.0.0.0/33'] }, 'allowedCidrs'],
      ['garbage for a range', { allowedCidrs: ['not-an-ip'] }, 'allowedCidrs'],
      ['an empty list of ranges', { allowedCidrs: [] }, 'allowedCidrs'],
      ['more than 50 ranges', { allowedCidrs: Array.from({ length: 51 }, (_, i) => `10.0.${i}.0/24`) }, 'allowedCidrs'],
      ["a limit above the deployment's", { rateLimitPerMinute: 101 }, 'rateLimitPerMinute'],
      ['a limit of zero', { rateLimitPerMinute: 0 }, 'rateLimitPerMinute'],
    ])('refuses %s with VALIDATION_ERROR naming the field', async (_, body, field) => {
      const inst = await createInstance(t, ['trading']);
      const res = await adminCreate(inst, body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(Object.keys(res.body.error.details)).toContain(field);
    });

    it('accepts exactly 50 ranges', async () => {
      const inst = await createInstance(t, ['trading']);
      const res = await adminCreate(inst, { allowedCidrs: Array.from({ length: 50 }, (_, i) => `10.0.${i}.0/24`) }).expect(201);
      expect(res.body.data.allowedCidrs).toHaveLength(50);
    });

    it('refuses a PATCH with nothing in it, and one on a revoked key', async () => {
      const inst = await createInstance(t, ['trading']);
      expect(codeOf(await adminPatch(inst, inst.keyId, {}))).toEqual([400, 'VALIDATION_ERROR']);
      expect(codeOf(await adminPatch(inst, inst.keyId, { name: null }))).toEqual([400, 'VALIDATION_ERROR']);
      expect(codeOf(await adminPatch(inst, inst.keyId, { color: 'red' }))).toEqual([400, 'VALIDATION_ERROR']);
      await t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
        .set(t.admin)
        .expect(200);
      expect(codeOf(await adminPatch(inst, inst.keyId, { services: ['trading'] }))).toEqual([409, 'KEY_NOT_ACTIVE']);
    });

    it("answers 404 for a PATCH of another instance's key through either door", async () => {
      const a = await createInstance(t, ['trading']);
      const b = await createInstance(t, ['trading']);
      expect(codeOf(await adminPatch(a, b.keyId, { name: 'x' }))).toEqual([404, 'NOT_FOUND']);
      expect(codeOf(await t.http().patch(`/api/keys/${b.keyId}`).set('X-API-Key', a.key).send({ name: 'x' }))).toEqual([404, 'NOT_FOUND']);
    });
  });

  describe('enforcement, in the order key → address → service → limit', () => {
    let inst: TestInstance;
    let key: string;
    beforeAll(async () => {
      inst = await createInstance(t, ['trading', 'custody']);
      key = (await adminCreate(inst, { services: ['trading'], allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] }).expect(201)).body.data.key;
    });

    it('refuses an unknown key with AUTH_FAILED before looking at the address', async () => {
      const unknown = `trusset_${inst.ref}_${'0'.repeat(64)}`;
      expect(codeOf(await verify(unknown, '203.0.113.9', 'custody'))).toEqual([401, 'AUTH_FAILED']);
    });

    it('refuses an address outside the ranges with IP_NOT_ALLOWED, before the service', async () => {
      expect(codeOf(await verify(key, '203.0.113.9', 'custody'))).toEqual([403, 'IP_NOT_ALLOWED']);
      expect(codeOf(await verify(key, '203.0.113.9', 'trading'))).toEqual([403, 'IP_NOT_ALLOWED']);
      expect(codeOf(await verify(key, '203.0.113.9'))).toEqual([403, 'IP_NOT_ALLOWED']);
      // No header: the client is the test process itself, 127.0.0.1.
      expect(codeOf(await verify(key))).toEqual([403, 'IP_NOT_ALLOWED']);
      expect(codeOf(await verify(key, '2001:db9::1', 'trading'))).toEqual([403, 'IP_NOT_ALLOWED']);
    });

    it("refuses a service outside the key's subset with SERVICE_NOT_ENABLED, though the instance has it", async () => {
      expect(codeOf(await verify(key, '10.1.2.3', 'custody'))).toEqual([403, 'SERVICE_NOT_ENABLED']);
    });

    it("admits an address inside, IPv4-mapped IPv6 included, and names the key's effective services", async () => {
      for (const from of ['10.1.2.3', '::ffff:10.200.0.1', '2001:db8:abcd::5']) {
        const res = await verify(key, from, 'trading').expect(200);
        expect(res.body.data.services).toEqual(['trading']);
      }
      const all = await verify(inst.key, '203.0.113.9', 'custody').expect(200);
      expect(all.body.data.services).toEqual(['trading', 'custody']);
    });

    it('applies the same rules on routes behind the guard (the self-service door)', async () => {
      expect(codeOf(await t.http().get('/api/keys').set('X-API-Key', key).set('X-Forwarded-For', '203.0.113.9'))).toEqual([
        403,
        'IP_NOT_ALLOWED',
      ]);
      await t.http().get('/api/keys').set('X-API-Key', key).set('X-Forwarded-For', '10.9.9.9').expect(200);
    });

    it('takes the client address from the trusted proxy only: a spoofed header from an untrusted client is ignored', async () => {
      const strict = await startTestApp({ ...ENV, TRUST_PROXY: 'false' });
      try {
        const other = await createInstance(strict, ['trading']);
        const narrow = (
          await strict
            .http()
            .post(adminKeys(other.ref))
            .set(strict.admin)
            .send({ name: 'n', allowedCidrs: ['10.0.0.0/8'] })
            .expect(201)
        ).body.data.key;
        const res = await strict.http().get('/api/auth/verify').set('X-API-Key', narrow).set('X-Forwarded-For', '10.1.2.3');
        expect(codeOf(res)).toEqual([403, 'IP_NOT_ALLOWED']);
        const local = (
          await strict
            .http()
            .post(adminKeys(other.ref))
            .set(strict.admin)
            .send({ name: 'n', allowedCidrs: ['127.0.0.0/8'] })
            .expect(201)
        ).body.data.key;
        await strict.http().get('/api/auth/verify').set('X-API-Key', local).set('X-Forwarded-For', '10.1.2.3').expect(200);
      } finally {
        await strict.close();
      }
    });

    it("spends no allowance on a refused address, and holds the key's own limit", async () => {
      pinClockInsideOneMinute();
      const limited = (await adminCreate(inst, { allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 2 }).expect(201)).body.data.key;
      for (let i = 0; i < 5; i++) {
        const refused = await verify(limited, '192.0.2.1');
        expect(codeOf(refused)).toEqual([403, 'IP_NOT_ALLOWED']);
        expect(refused.headers['x-ratelimit-limit']).toBeUndefined();
      }
      const first = await verify(limited, '10.0.0.1').expect(200);
      expect([first.headers['x-ratelimit-limit'], first.headers['x-ratelimit-remaining']]).toEqual(['2', '1']);
      await verify(limited, '10.0.0.1').expect(200);
      const third = await verify(limited, '10.0.0.1');
      expect(codeOf(third)).toEqual([429, 'RATE_LIMIT_EXCEEDED']);
      expect(third.headers['retry-after']).toBeDefined();
      // Another key of the instance keeps the deployment's limit.
      expect((await verify(inst.key, '10.0.0.1')).headers['x-ratelimit-limit']).toBe('100');
    });
  });

  it("caps a key's own limit by a deployment limit lowered since it was set", async () => {
    const lower = await startTestApp({ ...ENV, RATE_LIMIT_PER_KEY_PER_MINUTE: '5' });
    try {
      const inst = await createInstance(lower);
      await lower.editRows(`UPDATE instance_keys SET rate_limit_per_minute = 50 WHERE id = $1`, [inst.keyId]);
      const res = await lower.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
      expect(res.headers['x-ratelimit-limit']).toBe('5');
    } finally {
      await lower.close();
    }
  });

  describe('changes', () => {
    it('narrows a cached key from the very next request (admin door), and widens it back', async () => {
      const inst = await createInstance(t, ['trading', 'custody']);
      const cache = t.app.get(KeyCheckCache);
      await expectServedFromCache(cache, () => verify(inst.key, '10.0.0.1', 'custody'));
      await adminPatch(inst, inst.keyId, { services: ['trading'] }).expect(200);
      expect(codeOf(await verify(inst.key, '10.0.0.1', 'custody'))).toEqual([403, 'SERVICE_NOT_ENABLED']);
      await expectServedFromCache(cache, () => verify(inst.key, '10.0.0.1', 'trading'));
      await adminPatch(inst, inst.keyId, { allowedCidrs: ['192.168.0.0/16'] }).expect(200);
      expect(codeOf(await verify(inst.key, '10.0.0.1', 'trading'))).toEqual([403, 'IP_NOT_ALLOWED']);
      const patched = await adminPatch(inst, inst.keyId, { services: null, allowedCidrs: null, name: 'Wide again' }).expect(200);
      expect(patched.body.data).toMatchObject({ name: 'Wide again', services: null, allowedCidrs: null });
      await verify(inst.key, '10.0.0.1', 'custody').expect(200);
    });

    it('records the change in the audit trail', async () => {
      const inst = await createInstance(t, ['trading']);
      await adminPatch(inst, inst.keyId, { services: ['trading'], rateLimitPerMinute: 5 }).expect(200);
      const events = await t.http().get(`/api/admin/instances/${inst.ref}/events`).set(t.admin).expect(200);
      const updated = events.body.data.find((e: { action: string }) => e.action === 'key.updated');
      expect(updated.details).toEqual({ services: { from: null, to: ['trading'] }, rateLimitPerMinute: { from: null, to: 5 } });
    });

    it("gives a rotation's successor the same restrictions", async () => {
      const inst = await createInstance(t, ['trading', 'custody']);
      const narrow = (await adminCreate(inst, { services: ['custody'], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 9 }).expect(201))
        .body.data;
      const rotated = await t
        .http()
        .post(adminKeys(inst.ref, `/${narrow.id}/rotate`))
        .set(t.admin)
        .send({})
        .expect(201);
      expect(rotated.body.data).toMatchObject({ services: ['custody'], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 9 });
      expect(codeOf(await verify(rotated.body.data.key, '192.0.2.1', 'custody'))).toEqual([403, 'IP_NOT_ALLOWED']);
      expect(codeOf(await verify(rotated.body.data.key, '10.0.0.1', 'trading'))).toEqual([403, 'SERVICE_NOT_ENABLED']);
      expect((await verify(rotated.body.data.key, '10.0.0.1', 'custody').expect(200)).headers['x-ratelimit-limit']).toBe('9');
    });

    it('takes a service away from every key when the instance loses it', async () => {
      const inst = await createInstance(t, ['trading', 'custody']);
      const narrow = (await adminCreate(inst, { services: ['custody'] }).expect(201)).body.data.key;
      await t
        .http()
        .patch(`/api/admin/instances/${inst.ref}`)
        .set(t.admin)
        .send({ services: ['trading'] })
        .expect(200);
      expect(codeOf(await verify(narrow, '10.0.0.1', 'custody'))).toEqual([403, 'SERVICE_NOT_ENABLED']);
      expect((await verify(narrow, '10.0.0.1').expect(200)).body.data.services).toEqual([]);
    });
  });

  describe('self-service: a key grants no more than it holds', () => {
    const self = (key: string) => ({ 'X-API-Key': key, 'X-Forwarded-For': '10.0.0.1' });

    it('lets a restricted key create and PATCH keys within its own restrictions only', async () => {
      const inst = await createInstance(t, ['trading', 'custody']);
      const narrow = (await adminCreate(inst, { services: ['trading'], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 50 }).expect(201))
        .body.data;
      const create = (body: object) =>
        t
          .http()
          .post('/api/keys')
          .set(self(narrow.key))
          .send({ name: 'child', ...body });
      for (const wider of [
        {},
        { services: ['trading'], allowedCidrs: ['10.0.0.0/8'] },
        { services: ['trading', 'custody'], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 50 },
        { services: ['trading'], allowedCidrs: ['0.0.0.0/0'], rateLimitPerMinute: 50 },
        { services: ['trading'], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 51 },
      ]) {
        expect(codeOf(await create(wider))).toEqual([403, 'PRIVILEGE_EXCEEDED']);
      }
      const child = (await create({ services: ['trading'], allowedCidrs: ['10.1.0.0/16'], rateLimitPerMinute: 10 }).expect(201)).body.data;
      expect(codeOf(await t.http().patch(`/api/keys/${child.id}`).set(self(narrow.key)).send({ allowedCidrs: null }))).toEqual([
        403,
        'PRIVILEGE_EXCEEDED',
      ]);
      expect(codeOf(await t.http().patch(`/api/keys/${narrow.id}`).set(self(narrow.key)).send({ services: null }))).toEqual([
        403,
        'PRIVILEGE_EXCEEDED',
      ]);
      await t.http().patch(`/api/keys/${narrow.id}`).set(self(narrow.key)).send({ rateLimitPerMinute: 20 }).expect(200);
      // Narrowing itself worked, so the ceiling is now lower for what it grants.
      expect(codeOf(await t.http().patch(`/api/keys/${child.id}`).set(self(narrow.key)).send({ rateLimitPerMinute: 30 }))).toEqual([
        403,
        'PRIVILEGE_EXCEEDED',
      ]);
      // Rotating a wider key would hand its secret over: refused. Its own successor is no wider.
      expect(codeOf(await t.http().post(`/api/keys/${inst.keyId}/rotate`).set(self(narrow.key)).send({}))).toEqual([
        403,
        'PRIVILEGE_EXCEEDED',
      ]);
      await t.http().post(`/api/keys/${child.id}/rotate`).set(self(narrow.key)).send({}).expect(201);
    });

    it('lets an unrestricted ACTIVE key narrow any key, itself included', async () => {
      const inst = await createInstance(t, ['trading']);
      const other = (await adminCreate(inst, {}).expect(201)).body.data;
      await t
        .http()
        .patch(`/api/keys/${other.id}`)
        .set(self(inst.key))
        .send({ services: [], allowedCidrs: ['10.0.0.0/8'] })
        .expect(200);
      expect(codeOf(await verify(other.key, '10.0.0.1', 'trading'))).toEqual([403, 'SERVICE_NOT_ENABLED']);
      await t
        .http()
        .patch(`/api/keys/${inst.keyId}`)
        .set(self(inst.key))
        .send({ allowedCidrs: ['10.0.0.0/8'] })
        .expect(200);
      expect(codeOf(await verify(inst.key, '192.0.2.1'))).toEqual([403, 'IP_NOT_ALLOWED']);
    });

    it('checks the acting key again inside the change: revoked while its PATCH is in flight, it changes nothing', async () => {
      const inst = await createInstance(t, ['trading']);
      const keys = t.app.get(InstanceKeysService);
      const update = keys.update.bind(keys);
      // The guard has admitted the request; the key is revoked before the change's transaction begins.
      jest.spyOn(keys, 'update').mockImplementationOnce(async (...args) => {
        await t
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
          .set(t.admin)
          .expect(200);
        return update(...args);
      });
      const res = await t.http().patch(`/api/keys/${inst.keyId}`).set(self(inst.key)).send({ services: [] });
      expect([res.status, res.body.error?.code]).toEqual([401, 'AUTH_FAILED']);
      const [row] = await t.dataSource.query(`SELECT services FROM instance_keys WHERE id = $1`, [inst.keyId]);
      expect(row.services).toBeNull();
    });

    it('refuses a PATCH from a key in its rotation overlap', async () => {
      const inst = await createInstance(t, ['trading']);
      await t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
        .set(t.admin)
        .send({})
        .expect(201);
      const res = await t.http().patch(`/api/keys/${inst.keyId}`).set(self(inst.key)).send({ name: 'still mine?' });
      expect(res.body.error.code).toBe('KEY_NOT_ACTIVE');
    });
  });
});

/** Two replicas on one server: a narrowing made through A stops passing on B within 1 s (SPEC §12 and §6). */
(onPostgresServer ? describe : describe.skip)('least-privilege changes across two replicas (needs a PostgreSQL server)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp({ ...ENV, ...LIMITS_OUT_OF_REACH });
    b = await startTestApp({ ...ENV, ...LIMITS_OUT_OF_REACH });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  const verifyOn = (t: TestApp, key: string, from: string, service?: string) =>
    t
      .http()
      .get('/api/auth/verify')
      .query(service ? { service } : {})
      .set('X-API-Key', key)
      .set('X-Forwarded-For', from);

  it.each<[string, object, string, string]>([
    ['services', { services: ['custody'] }, '10.0.0.1', 'SERVICE_NOT_ENABLED'],
    ['allowedCidrs', { allowedCidrs: ['192.168.0.0/16'] }, '10.0.0.1', 'IP_NOT_ALLOWED'],
  ])('refuses on B, within 1 s, a key whose %s A narrowed while B had it cached', async (_, patch, from, code) => {
    const inst = await createInstance(a, ['trading', 'custody']);
    expect(b.app.get(KeyInvalidationService).listening).toBe(true);
    await expectServedFromCache(b.app.get(KeyCheckCache), () => verifyOn(b, inst.key, from, 'trading'));
    await a
      .http()
      .patch(adminKeys(inst.ref, `/${inst.keyId}`))
      .set(a.admin)
      .send(patch)
      .expect(200);
    // On A, the very next request.
    expect((await verifyOn(a, inst.key, from, 'trading')).body.error?.code).toBe(code);
    const res = await pollUntil(
      () => verifyOn(b, inst.key, from, 'trading'),
      (r) => r.status !== 200,
      1000,
    );
    expect([res.status, res.body.error?.code]).toEqual([403, code]);
  });
});
