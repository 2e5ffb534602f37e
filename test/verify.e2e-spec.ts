import { adminKeys, createInstance } from './support/instance-fixtures';
import { startTestApp, TestApp } from './support/test-app';

describe('GET /api/auth/verify (SPEC §6)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const verify = (key: string, service?: string) =>
    t
      .http()
      .get('/api/auth/verify')
      .query(service === undefined ? {} : { service })
      .set('X-API-Key', key);

  it('answers the identity and the gateway headers for a valid key', async () => {
    const inst = await createInstance(t, ['trading', 'customers']);
    const res = await verify(inst.key, 'trading').expect(200);
    expect(res.body.data).toEqual({
      instanceRef: inst.ref,
      instanceId: inst.id,
      keyId: inst.keyId,
      keyStatus: 'ACTIVE',
      services: ['customers', 'trading'],
    });
    expect(res.headers['x-trusset-instance-ref']).toBe(inst.ref);
    expect(res.headers['x-trusset-key-id']).toBe(inst.keyId);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['x-ratelimit-limit']).toBe('200');
    expect(Number(res.headers['x-ratelimit-remaining'])).toBeLessThan(200);
  });

  it('checks only the key without a service, and refuses a service the instance lacks or that does not exist', async () => {
    const inst = await createInstance(t, []);
    await verify(inst.key).expect(200);
    // An empty service= is a gateway variable that did not expand: refused, never a key-only pass (SPEC §6).
    await verify(inst.key, '').expect(400);
    for (const service of ['trading', 'banking']) {
      const res = await verify(inst.key, service).expect(403);
      expect(res.body.error.code).toBe('SERVICE_NOT_ENABLED');
      expect(res.headers['x-trusset-key-id']).toBeUndefined();
    }
  });

  it('follows a service change, an archive and a revoke from the very next request', async () => {
    const inst = await createInstance(t, ['lending']);
    await verify(inst.key, 'lending').expect(200);
    await t
      .http()
      .patch(`/api/admin/instances/${inst.ref}`)
      .set(t.admin)
      .send({ services: ['custody'] })
      .expect(200);
    await verify(inst.key, 'lending').expect(403);
    await verify(inst.key, 'custody').expect(200);
    await t.http().post(`/api/admin/instances/${inst.ref}/archive`).set(t.admin).expect(200);
    expect((await verify(inst.key, 'custody').expect(401)).body.error.code).toBe('AUTH_FAILED');
    await t.http().post(`/api/admin/instances/${inst.ref}/restore`).set(t.admin).expect(200);
    await verify(inst.key, 'custody').expect(200);
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
      .set(t.admin)
      .expect(200);
    await verify(inst.key, 'custody').expect(401);
  });

  it('keeps lastUsedAt and the request count without writing per request', async () => {
    const inst = await createInstance(t);
    for (let i = 0; i < 3; i++) await verify(inst.key).expect(200);
    const [before] = await t.dataSource.query(`SELECT request_count, last_used_at FROM instance_keys WHERE id = $1`, [inst.keyId]);
    expect(before).toEqual({ request_count: '0', last_used_at: null });
    await t.app.get((await import('../src/usage/usage.tracker')).UsageTracker).flush();
    const key = (
      await t
        .http()
        .get(adminKeys(inst.ref, `/${inst.keyId}`))
        .set(t.admin)
        .expect(200)
    ).body.data;
    expect(key.requestCount).toBe(3);
    expect(key.lastUsedAt).toEqual(expect.any(String));
  });

  it('documents the route and the X-API-Key scheme in OpenAPI', async () => {
    const doc = (await t.http().get('/api/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes['instance-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(doc.paths['/api/auth/verify'].get.security).toEqual([{ 'instance-key': [] }]);
    expect(doc.paths['/api/keys/{keyId}/rotate'].post.security).toEqual([{ 'instance-key': [] }]);
  });

  it('is answered ahead of the router yet counted under its route in the metrics, and other methods fall through to 405', async () => {
    const inst = await createInstance(t, ['trading']);
    await verify(inst.key, 'trading').expect(200);
    await verify('trusset_short').expect(401);
    const metrics = await t.http().get('/api/metrics').expect(200);
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/api\/auth\/verify",status="200"\} [1-9]/);
    expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/api\/auth\/verify",status="401"\} [1-9]/);
    const post = await t.http().post('/api/auth/verify').set('X-API-Key', inst.key).expect(405);
    expect(post.body.error.code).toBe('METHOD_NOT_ALLOWED');
    const below = await t.http().get('/api/auth/verify/extra').set('X-API-Key', inst.key).expect(404);
    expect(below.body.error.code).toBe('NOT_FOUND');
  });
});
