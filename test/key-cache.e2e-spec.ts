import { randomBytes } from 'node:crypto';
import { adminKeys, createInstance } from './support/instance-fixtures';
import {
  advanceClock,
  expectServedFromCache,
  holdKeyLookups,
  isInstanceKeyLookup,
  pollUntil,
  registerMicaDeveloper,
} from './support/scale-helpers';
import { startTestApp, TestApp } from './support/test-app';
import { APP_CONFIG, AppConfig } from '../src/config/app.config';
import { KeyCheckCache } from '../src/key-cache/key-check.cache';

describe('key-check cache on one replica (SPEC §6: a change stops passing at once on the replica that made it)', () => {
  let t: TestApp;
  let cache: KeyCheckCache;

  beforeAll(async () => {
    // The per-key limiter would only add noise to checks repeated on purpose; registration is not under test.
    t = await startTestApp({ RATE_LIMIT_PER_KEY_PER_MINUTE: '0', RATE_LIMIT_STRICT_PER_MINUTE: '1000', KEY_CACHE_TTL_MS: '60000' });
    cache = t.app.get(KeyCheckCache);
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const verify = (key: string, service?: string) =>
    t
      .http()
      .get('/api/auth/verify')
      .query(service ? { service } : {})
      .set('X-API-Key', key);
  const micaHealth = (key: string) => t.http().get('/api/mica/v1/health').set('X-API-Key', key);

  /** Proves a success is served from the cache, so what follows starts from a cached success. */
  const warm = (check: () => Promise<{ status: number }>) => expectServedFromCache(cache, check);

  it('serves a repeated check from the cache without looking the key up again', async () => {
    const inst = await createInstance(t, ['trading']);
    await warm(() => verify(inst.key, 'trading'));
    const query = jest.spyOn(t.dataSource, 'query');
    const hits = cache.hits;
    const res = await verify(inst.key, 'trading').expect(200);
    expect(res.body.data).toMatchObject({ keyId: inst.keyId, keyStatus: 'ACTIVE', services: ['trading'] });
    expect(cache.hits).toBe(hits + 1);
    expect(query.mock.calls.filter(([sql]) => isInstanceKeyLookup(sql))).toHaveLength(0);
  });

  it('refuses a revoked key on the very next request after a cached success', async () => {
    const inst = await createInstance(t);
    await warm(() => verify(inst.key));
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
      .set(t.admin)
      .expect(200);
    expect((await verify(inst.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
  });

  it('refuses a deleted key, and the old key of a rotation without overlap, on the next request', async () => {
    const inst = await createInstance(t);
    const second = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'second' }).expect(201)).body.data;
    await warm(() => verify(inst.key));
    await warm(() => verify(second.key));
    await t
      .http()
      .delete(adminKeys(inst.ref, `/${second.id}`))
      .set(t.admin)
      .expect(200);
    await verify(second.key).expect(401);
    const successor = (
      await t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
        .set(t.admin)
        .send({ overlapSeconds: 0 })
        .expect(201)
    ).body.data;
    await verify(inst.key).expect(401);
    await verify(successor.key).expect(200);
  });

  it('refuses a paused key on the next request and admits it again on the next request after resume', async () => {
    const inst = await createInstance(t);
    await warm(() => verify(inst.key));
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/pause`))
      .set(t.admin)
      .send({ durationSeconds: 600 })
      .expect(200);
    await verify(inst.key).expect(401);
    // The refusal is now cached too (the row says PAUSED): resume must evict it, not wait for the TTL.
    await verify(inst.key).expect(401);
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/resume`))
      .set(t.admin)
      .expect(200);
    expect((await verify(inst.key).expect(200)).body.data.keyStatus).toBe('ACTIVE');
  });

  it('refuses every key of an archived instance on the next request and admits them after restore', async () => {
    const inst = await createInstance(t, ['custody']);
    const second = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'second' }).expect(201)).body.data;
    await warm(() => verify(inst.key, 'custody'));
    await warm(() => verify(second.key, 'custody'));
    await t.http().post(`/api/admin/instances/${inst.ref}/archive`).set(t.admin).expect(200);
    await verify(inst.key, 'custody').expect(401);
    await verify(second.key, 'custody').expect(401);
    await t.http().post(`/api/admin/instances/${inst.ref}/restore`).set(t.admin).expect(200);
    await verify(inst.key, 'custody').expect(200);
    await verify(second.key, 'custody').expect(200);
  });

  it('refuses a service removed with PATCH on the next request and admits it once re-enabled', async () => {
    const inst = await createInstance(t, ['trading', 'custody']);
    await warm(() => verify(inst.key, 'trading'));
    await t
      .http()
      .patch(`/api/admin/instances/${inst.ref}`)
      .set(t.admin)
      .send({ services: ['custody'] })
      .expect(200);
    expect((await verify(inst.key, 'trading').expect(403)).body.error.code).toBe('SERVICE_NOT_ENABLED');
    await verify(inst.key, 'custody').expect(200);
    await t
      .http()
      .patch(`/api/admin/instances/${inst.ref}`)
      .set(t.admin)
      .send({ services: ['custody', 'trading'] })
      .expect(200);
    await verify(inst.key, 'trading').expect(200);
  });

  it('does not cache a check that read the key just before a revoke committed (epoch)', async () => {
    const inst = await createInstance(t);
    // Hold the lookup's answer (already read from the database) until the revoke has committed, the
    // window in which a cache without an epoch would store a success that is no longer true.
    const lookup = holdKeyLookups(t, 'after-read');
    const racing = verify(inst.key).then((r) => r.status);
    await lookup.reached;
    await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
      .set(t.admin)
      .expect(200);
    lookup.release();
    // The racing request began before the revoke, so either answer is correct for it ...
    expect([200, 401]).toContain(await racing);
    jest.restoreAllMocks();
    // ... but what it read must not outlive the revoke.
    await verify(inst.key).expect(401);
  });

  it('answers a burst of cache misses with a few shared lookups, each caller getting its own answer', async () => {
    const inst = await createInstance(t);
    const unknown = Array.from({ length: 30 }, () => `trusset_${inst.ref}_${randomBytes(32).toString('hex')}`);
    // Hold the lookups sent first until every request of the burst has missed the cache and queued,
    // so how many queries the burst needs does not depend on how fast the requests arrive.
    const lookups = holdKeyLookups(t, 'before-read');
    const misses = cache.misses;
    const answers = Promise.all([inst.key, ...unknown].map((key) => verify(key).then((r) => r.status)));
    await pollUntil(
      () => cache.misses - misses,
      (n) => n === unknown.length + 1,
      10_000,
    );
    lookups.release();
    expect(await answers).toEqual([200, ...unknown.map(() => 401)]);
    const config = t.app.get<AppConfig>(APP_CONFIG).cache;
    expect(lookups.digests.length).toBeLessThanOrEqual(config.lookupConcurrency + Math.ceil(unknown.length / config.lookupBatchSize));
    expect(lookups.digests.flat()).toHaveLength(unknown.length + 1);
  });

  describe('time-driven states are decided on every hit, without eviction', () => {
    it('refuses a cached key once its own expiry passes', async () => {
      const inst = await createInstance(t);
      const key = (
        await t
          .http()
          .post(adminKeys(inst.ref))
          .set(t.admin)
          .send({ name: 'expiring', expiresAt: new Date(Date.now() + 3600_000).toISOString() })
          .expect(201)
      ).body.data;
      await t.editRows(`UPDATE instance_keys SET expires_at = now() + interval '2 seconds' WHERE id = $1`, [key.id]);
      await warm(() => verify(key.key));
      const query = jest.spyOn(t.dataSource, 'query');
      const hits = cache.hits;
      advanceClock(5_000);
      expect((await verify(key.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
      expect(cache.hits).toBe(hits + 1);
      expect(query.mock.calls.filter(([sql]) => isInstanceKeyLookup(sql))).toHaveLength(0);
    });

    it('refuses a cached old key once its rotation overlap ends, while its successor passes', async () => {
      const inst = await createInstance(t);
      const successor = (
        await t
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
          .set(t.admin)
          .send({ overlapSeconds: 3600 })
          .expect(201)
      ).body.data;
      await t.editRows(`UPDATE instance_keys SET expires_at = now() + interval '2 seconds' WHERE id = $1`, [inst.keyId]);
      await warm(() => verify(inst.key));
      expect((await verify(inst.key).expect(200)).body.data.keyStatus).toBe('PENDING_ROTATION');
      const query = jest.spyOn(t.dataSource, 'query');
      advanceClock(5_000);
      await verify(inst.key).expect(401);
      expect(query.mock.calls.filter(([sql]) => isInstanceKeyLookup(sql))).toHaveLength(0);
      await verify(successor.key).expect(200);
    });

    it('admits a cached paused key once its pause ends', async () => {
      const inst = await createInstance(t);
      await t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/pause`))
        .set(t.admin)
        .send({ durationSeconds: 600 })
        .expect(200);
      await t.editRows(`UPDATE instance_keys SET paused_until = now() + interval '2 seconds' WHERE id = $1`, [inst.keyId]);
      await expectServedFromCache(cache, () => verify(inst.key), 401);
      const query = jest.spyOn(t.dataSource, 'query');
      advanceClock(5_000);
      expect((await verify(inst.key).expect(200)).body.data.keyStatus).toBe('ACTIVE');
      expect(query.mock.calls.filter(([sql]) => isInstanceKeyLookup(sql))).toHaveLength(0);
    });
  });

  describe('MiCA keys', () => {
    it('serves a repeated MiCA key check from the cache', async () => {
      const dev = await registerMicaDeveloper(t);
      await warm(() => micaHealth(dev.apiKey));
    });

    it('refuses a revoked MiCA key on the very next request after a cached success', async () => {
      const dev = await registerMicaDeveloper(t);
      await warm(() => micaHealth(dev.apiKey));
      await t.http().delete(`/api/mica/developer/keys/${dev.keyId}`).set('Authorization', `Bearer ${dev.token}`).expect(200);
      expect((await micaHealth(dev.apiKey).expect(401)).body.error.code).toBe('INVALID_KEY');
    });

    it('refuses a rotated-away MiCA key on the very next request; its successor passes', async () => {
      const dev = await registerMicaDeveloper(t);
      await warm(() => micaHealth(dev.apiKey));
      const rotated = await t
        .http()
        .post(`/api/mica/developer/keys/${dev.keyId}/rotate`)
        .set('Authorization', `Bearer ${dev.token}`)
        .expect(201);
      expect((await micaHealth(dev.apiKey).expect(401)).body.error.code).toBe('INVALID_KEY');
      await micaHealth(rotated.body.data.apiKey).expect(200);
    });
  });
});
