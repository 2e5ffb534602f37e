import { adminKeys, createInstance } from './support/instance-fixtures';
import { expectServedFromCache, pollUntil, registerMicaDeveloper } from './support/scale-helpers';
import { onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { TcpProxy } from './support/tcp-proxy';
import { KeyCheckCache } from '../src/key-cache/key-check.cache';
import { KeyInvalidationService } from '../src/key-cache/key-invalidation.service';

/**
 * Two replicas (two apps in this process) sharing one PostgreSQL server: a change made through A
 * must stop passing on B within 1 second (SPEC §6), although B holds a cached success. Only a
 * server has other processes to notify; the embedded database is one process.
 */
(onPostgresServer ? describe : describe.skip)('two replicas sharing one PostgreSQL server (SPEC §6: within 1 s on every replica)', () => {
  let a: TestApp;
  let b: TestApp;
  let cacheB: KeyCheckCache;
  let channelB: KeyInvalidationService;

  beforeAll(async () => {
    const env = { RATE_LIMIT_PER_KEY_PER_MINUTE: '0', RATE_LIMIT_STRICT_PER_MINUTE: '1000', KEY_CACHE_TTL_MS: '60000' };
    a = await startTestApp(env);
    b = await startTestApp(env);
    cacheB = b.app.get(KeyCheckCache);
    channelB = b.app.get(KeyInvalidationService);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const verifyOn = (t: TestApp, key: string, service?: string) =>
    t
      .http()
      .get('/api/auth/verify')
      .query(service ? { service } : {})
      .set('X-API-Key', key);
  const micaHealthOn = (t: TestApp, key: string) => t.http().get('/api/mica/v1/health').set('X-API-Key', key);

  /** Two checks on B, the second provably from B's cache: what follows starts from a cached success on B. */
  async function warmB(check: () => Promise<{ status: number }>): Promise<void> {
    expect(channelB.listening).toBe(true);
    await expectServedFromCache(cacheB, check);
  }

  /** B's answer once it differs from 200, polled for at most the 1 s SPEC §6 allows. */
  const nextRefusalOnB = (check: () => Promise<{ status: number; body: { error?: { code: string } } }>) =>
    pollUntil(check, (res) => res.status !== 200, 1000);

  it('uses one LISTEN connection per replica, each with its own backend', () => {
    expect(a.app.get(KeyInvalidationService).listening).toBe(true);
    expect(channelB.listening).toBe(true);
    expect(a.app.get(KeyInvalidationService).listenerPid).not.toBe(channelB.listenerPid);
  });

  it('refuses on B a key revoked through A', async () => {
    const inst = await createInstance(a);
    await warmB(() => verifyOn(b, inst.key));
    await a
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
      .set(a.admin)
      .expect(200);
    const res = await nextRefusalOnB(() => verifyOn(b, inst.key));
    expect([res.status, res.body.error?.code]).toEqual([401, 'AUTH_FAILED']);
  });

  it('refuses on B a key paused through A, and admits it on B again after a resume through A', async () => {
    const inst = await createInstance(a);
    await warmB(() => verifyOn(b, inst.key));
    await a
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/pause`))
      .set(a.admin)
      .send({ durationSeconds: 600 })
      .expect(200);
    expect((await nextRefusalOnB(() => verifyOn(b, inst.key))).status).toBe(401);
    await a
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/resume`))
      .set(a.admin)
      .expect(200);
    const back = await pollUntil(
      () => verifyOn(b, inst.key),
      (res) => res.status === 200,
      1000,
    );
    expect(back.status).toBe(200);
  });

  it('refuses on B the keys of an instance archived through A, and admits them after a restore through A', async () => {
    const inst = await createInstance(a, ['lending']);
    await warmB(() => verifyOn(b, inst.key, 'lending'));
    await a.http().post(`/api/admin/instances/${inst.ref}/archive`).set(a.admin).expect(200);
    expect((await nextRefusalOnB(() => verifyOn(b, inst.key, 'lending'))).status).toBe(401);
    await a.http().post(`/api/admin/instances/${inst.ref}/restore`).set(a.admin).expect(200);
    const back = await pollUntil(
      () => verifyOn(b, inst.key, 'lending'),
      (res) => res.status === 200,
      1000,
    );
    expect(back.status).toBe(200);
  });

  it('refuses on B a service removed through A with PATCH', async () => {
    const inst = await createInstance(a, ['trading', 'custody']);
    await warmB(() => verifyOn(b, inst.key, 'trading'));
    await a
      .http()
      .patch(`/api/admin/instances/${inst.ref}`)
      .set(a.admin)
      .send({ services: ['custody'] })
      .expect(200);
    const res = await nextRefusalOnB(() => verifyOn(b, inst.key, 'trading'));
    expect([res.status, res.body.error?.code]).toEqual([403, 'SERVICE_NOT_ENABLED']);
  });

  it('refuses on B a MiCA key revoked through A, and one rotated away through A', async () => {
    const dev = await registerMicaDeveloper(a);
    const other = (
      await a.http().post('/api/mica/developer/keys').set('Authorization', `Bearer ${dev.token}`).send({ name: 'second' }).expect(201)
    ).body.data;
    await warmB(() => micaHealthOn(b, dev.apiKey));
    await warmB(() => micaHealthOn(b, other.apiKey));
    await a.http().delete(`/api/mica/developer/keys/${dev.keyId}`).set('Authorization', `Bearer ${dev.token}`).expect(200);
    const revoked = await nextRefusalOnB(() => micaHealthOn(b, dev.apiKey));
    expect([revoked.status, revoked.body.error?.code]).toEqual([401, 'INVALID_KEY']);
    const successor = await a
      .http()
      .post(`/api/mica/developer/keys/${other.id}/rotate`)
      .set('Authorization', `Bearer ${dev.token}`)
      .expect(201);
    expect((await nextRefusalOnB(() => micaHealthOn(b, other.apiKey))).status).toBe(401);
    await micaHealthOn(b, successor.body.data.apiKey).expect(200);
  });

  describe('when B loses its notification channel', () => {
    it('suspends B’s cache, so a revoke through A during the outage is refused by B at once; B then reconnects and caches again', async () => {
      const inst = await createInstance(a);
      const witness = await createInstance(a);
      await warmB(() => verifyOn(b, inst.key));
      await warmB(() => verifyOn(b, witness.key));
      const pid = channelB.listenerPid;

      // Hold B's first reconnection attempt until the test has looked at the outage; without this
      // the reconnect (100 ms later) could end the outage before anything is observed. The attempt
      // itself then runs unchanged.
      const svc = channelB as unknown as { connect(): Promise<void> };
      const connect = svc.connect.bind(svc);
      let release!: () => void;
      const outageHeld = new Promise<void>((r) => (release = r));
      jest.spyOn(svc, 'connect').mockImplementationOnce(async () => {
        await outageHeld;
        return connect();
      });

      await a.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
      await pollUntil(
        () => channelB.listening,
        (listening) => !listening,
        5000,
      );
      expect(channelB.listening).toBe(false);
      expect(cacheB.available).toBe(false);

      // B missed A's notification (nobody was listening): only the suspension keeps it honest.
      await a
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
        .set(a.admin)
        .expect(200);
      expect((await verifyOn(b, inst.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
      // Meanwhile valid keys still pass on B, each decided by the database rather than a cache.
      const hits = cacheB.hits;
      await verifyOn(b, witness.key).expect(200);
      await verifyOn(b, witness.key).expect(200);
      expect(cacheB.hits).toBe(hits);

      release();
      await pollUntil(
        () => channelB.listening,
        (listening) => listening,
        10_000,
        50,
      );
      expect(channelB.listening).toBe(true);
      expect(channelB.listenerPid).not.toBe(pid);
      expect(cacheB.available).toBe(true);

      // Back to normal: B caches again, and hears A's changes again.
      await warmB(() => verifyOn(b, witness.key));
      await a
        .http()
        .post(adminKeys(witness.ref, `/${witness.keyId}/revoke`))
        .set(a.admin)
        .expect(200);
      expect((await nextRefusalOnB(() => verifyOn(b, witness.key))).status).toBe(401);
    });

    it('reconnects by itself after its listener backend is terminated', async () => {
      const pid = channelB.listenerPid;
      await a.dataSource.query('SELECT pg_terminate_backend($1)', [pid]);
      const pidAfter = await pollUntil(
        () => channelB.listenerPid,
        (p) => p !== undefined && p !== pid,
        10_000,
        50,
      );
      expect(pidAfter).toBeDefined();
      expect(pidAfter).not.toBe(pid);
      expect(cacheB.available).toBe(true);
    });
  });

  describe('when B’s notification channel goes silent without an error (half-open TCP)', () => {
    let proxy: TcpProxy;
    let c: TestApp;

    beforeAll(async () => {
      const via = TcpProxy.forUrl(process.env.TEST_DATABASE_URL!);
      proxy = via.proxy;
      await proxy.start();
      c = await startTestApp({ DATABASE_URL: via.urlVia(proxy.port), RATE_LIMIT_PER_KEY_PER_MINUTE: '0', KEY_CACHE_TTL_MS: '60000' });
    });
    afterAll(async () => {
      proxy?.thaw();
      await c?.close();
      await proxy?.stop();
    });

    it('notices the silence by its heartbeat and suspends the cache within the 1 s of SPEC §6', async () => {
      const inst = await createInstance(a);
      const cacheC = c.app.get(KeyCheckCache);
      await expectServedFromCache(cacheC, () => verifyOn(c, inst.key));
      proxy.freeze();
      const available = await pollUntil(
        () => cacheC.available,
        (v) => v === false,
        1000,
        10,
      );
      expect(available).toBe(false);
      proxy.thaw();
      const channelC = c.app.get(KeyInvalidationService);
      expect(
        await pollUntil(
          () => channelC.listening && cacheC.available,
          (v) => v,
          10_000,
          50,
        ),
      ).toBe(true);
      await a
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
        .set(a.admin)
        .expect(200);
      expect((await nextRefusalOnB(() => verifyOn(c, inst.key))).status).toBe(401);
    });
  });
});
