import type { Response } from 'supertest';
import { randomBytes } from 'node:crypto';
import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { onPostgresServer, startTestApp, TestApp } from './support/test-app';

const HEX = 'a'.repeat(64);

describe('instance auth guard (SPEC §3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  /** A route of this service behind the guard without a service, and the verify route with one. */
  const selfService = () => t.http().get('/api/keys');
  const verify = (service?: string) =>
    t
      .http()
      .get('/api/auth/verify')
      .query(service ? { service } : {});

  it('answers AUTH_REQUIRED without an X-API-Key header, or with an empty one', async () => {
    for (const res of [await selfService(), await selfService().set('X-API-Key', ''), await verify('trading')]) {
      expect([res.status, res.body.error.code]).toEqual([401, 'AUTH_REQUIRED']);
    }
  });

  it('ignores a key sent anywhere but the header', async () => {
    const inst = await createInstance(t);
    const inQuery = await t.http().get('/api/auth/verify').query({ apiKey: inst.key, 'X-API-Key': inst.key, api_key: inst.key });
    expect([inQuery.status, inQuery.body.error.code]).toEqual([401, 'AUTH_REQUIRED']);
    const inBody = await t.http().post('/api/keys').send({ name: 'x', 'X-API-Key': inst.key });
    expect([inBody.status, inBody.body.error.code]).toEqual([401, 'AUTH_REQUIRED']);
  });

  describe('AUTH_FAILED', () => {
    let inst: TestInstance;
    let bodies: Array<{ what: string; status: number; error: unknown; keys: string[] }>;

    beforeAll(async () => {
      inst = await createInstance(t, ['trading']);
      const other = await createInstance(t, ['trading']);
      const secret = inst.key.slice(-64);
      const key = async (suffix = '', body: object = { name: 'k' }) =>
        (await t.http().post(adminKeys(inst.ref, suffix)).set(t.admin).send(body)).body.data;
      const revoked = await key();
      await t
        .http()
        .post(adminKeys(inst.ref, `/${revoked.id}/revoke`))
        .set(t.admin)
        .expect(200);
      const expired = await key('', { name: 'e', expiresAt: new Date(Date.now() + 3600_000).toISOString() });
      await t.editRows(`UPDATE instance_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [expired.id]);
      const paused = await key();
      await t
        .http()
        .post(adminKeys(inst.ref, `/${paused.id}/pause`))
        .set(t.admin)
        .send({ durationSeconds: 600 })
        .expect(200);
      const rotatedAway = await key();
      await t
        .http()
        .post(adminKeys(inst.ref, `/${rotatedAway.id}/rotate`))
        .set(t.admin)
        .send({ overlapSeconds: 0 })
        .expect(201);
      const archived = await createInstance(t, ['trading']);
      await t.http().post(`/api/admin/instances/${archived.ref}/archive`).set(t.admin).expect(200);

      const cases: Array<[string, string | string[]]> = [
        ['80 characters', inst.key.slice(0, 80)],
        ['82 characters', `${inst.key}a`],
        ['upper-case hex', `trusset_${inst.ref}_${secret.toUpperCase().replace(/^./, 'A')}`],
        ['a MiCA key', `trusset_mica_${'a'.repeat(48)}`],
        ['two keys joined by a comma', `${inst.key},${other.key}`],
        ['two X-API-Key headers', [inst.key, other.key]],
        ['a valid secret under another instanceRef', `trusset_${other.ref}_${secret}`],
        ['garbage', 'Bearer nonsense'],
        ['an unknown well-formed key', `trusset_${inst.ref}_${HEX}`],
        ['a revoked key', revoked.key],
        ['an expired key', expired.key],
        ['a paused key', paused.key],
        ['a key whose overlap is over', rotatedAway.key],
        ['a key of an archived instance', archived.key],
      ];
      bodies = [];
      for (const [what, header] of cases) {
        for (const res of [
          await selfService().set('X-API-Key', header as string),
          await verify('trading').set('X-API-Key', header as string),
        ]) {
          bodies.push({ what, status: res.status, error: res.body.error, keys: Object.keys(res.body).sort() });
        }
      }
    });

    it('answers 401 AUTH_FAILED with one identical body whatever the reason', () => {
      const expected = {
        status: 401,
        error: { code: 'AUTH_FAILED', message: 'Authentication failed.' },
        keys: ['error', 'metadata', 'success'],
      };
      for (const b of bodies)
        expect({ what: b.what, status: b.status, error: b.error, keys: b.keys }).toEqual({ what: b.what, ...expected });
      expect(bodies).toHaveLength(28);
    });

    it('still admits the valid key these failures were built around', async () => {
      await verify('trading').set('X-API-Key', inst.key).expect(200);
    });

    it('refuses malformed strings before any database work', async () => {
      const seen: string[] = [];
      const original = t.dataSource.query.bind(t.dataSource);
      const spy = jest.spyOn(t.dataSource, 'query').mockImplementation((sql, params) => {
        seen.push(sql);
        return original(sql, params);
      });
      try {
        for (const header of [inst.key.slice(0, 80), `trusset_mica_${'a'.repeat(48)}`, `${inst.key}, ${inst.key}`]) {
          await verify().set('X-API-Key', header).expect(401);
        }
        expect(seen.filter((sql) => sql.includes('instance_keys'))).toEqual([]);
        // A fresh secret: one already refused could be answered from the negative cache.
        await verify()
          .set('X-API-Key', `trusset_${inst.ref}_${randomBytes(32).toString('hex')}`)
          .expect(401);
        expect(seen.filter((sql) => sql.includes('instance_keys'))).toHaveLength(1);
      } finally {
        spy.mockRestore();
      }
    });
  });

  it('answers 401, not 403, for an invalid key on a service the instance lacks', async () => {
    const inst = await createInstance(t, ['customers']);
    const res = await verify('trading').set('X-API-Key', `trusset_${inst.ref}_${HEX}`);
    expect([res.status, res.body.error.code]).toEqual([401, 'AUTH_FAILED']);
  });

  it('answers 403 SERVICE_NOT_ENABLED for a valid key on a service the instance lacks', async () => {
    const inst = await createInstance(t, ['customers']);
    const res = await verify('trading').set('X-API-Key', inst.key);
    expect([res.status, res.body.error.code]).toEqual([403, 'SERVICE_NOT_ENABLED']);
    await verify('customers').set('X-API-Key', inst.key).expect(200);
  });

  it('does not count failed key attempts against the per-address limiter', async () => {
    const inst = await createInstance(t);
    for (let i = 0; i < t.config.rateLimits.strictPerMinute + 5; i++) {
      await verify().set('X-API-Key', `trusset_${inst.ref}_${HEX}`).expect(401);
    }
    await verify().set('X-API-Key', inst.key).expect(200);
  });
});

describe('instance auth when the database cannot answer', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A server pool needs two connections to start (the migration lock and the migrations).
    t = await startTestApp({ DATABASE_POOL_SIZE: '2', AUTH_DECISION_TIMEOUT_MS: '300', DATABASE_ACQUIRE_TIMEOUT_MS: '500' });
  });
  afterAll(() => t.close());

  it('answers 500 AUTH_ERROR within the decision bound when the pool is exhausted, and 503 on management routes', async () => {
    const inst = await createInstance(t, ['trading']);
    const holders = Array.from({ length: t.config.database.poolSize }, () => t.dataSource.createQueryRunner());
    for (const holder of holders) await holder.connect();
    try {
      const started = process.hrtime.bigint();
      const res = await t.http().get('/api/auth/verify').query({ service: 'trading' }).set('X-API-Key', inst.key);
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      expect([res.status, res.body.error.code]).toEqual([500, 'AUTH_ERROR']);
      expect(elapsedMs).toBeLessThan(2000);
      const admin = await t.http().get(adminKeys(inst.ref)).set(t.admin);
      expect([admin.status, admin.body.error.code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
    } finally {
      for (const holder of holders) await holder.release();
    }
    await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
  });

  (onPostgresServer ? it : it.skip)('answers 500 AUTH_ERROR within the decision bound when the lookup hangs on a lock', async () => {
    const inst = await createInstance(t);
    const locker = t.dataSource.createQueryRunner();
    await locker.connect();
    await locker.startTransaction();
    try {
      await locker.query(`LOCK TABLE instance_keys IN ACCESS EXCLUSIVE MODE`);
      const started = process.hrtime.bigint();
      const res = await t.http().get('/api/auth/verify').set('X-API-Key', inst.key);
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      expect([res.status, res.body.error.code]).toEqual([500, 'AUTH_ERROR']);
      expect(elapsedMs).toBeLessThan(2000);
    } finally {
      await locker.rollbackTransaction();
      await locker.release();
    }
    await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
  });

  it('answers 500 AUTH_ERROR, never a pass, when the database is gone', async () => {
    const inst = await createInstance(t);
    await t.dataSource.destroy();
    const res = await t.http().get('/api/auth/verify').set('X-API-Key', inst.key);
    expect([res.status, res.body.error.code]).toEqual([500, 'AUTH_ERROR']);
    const unknown = await t.http().get('/api/auth/verify').set('X-API-Key', `trusset_${inst.ref}_${HEX}`);
    expect(unknown.status).toBe(500);
  });
});

describe('instance key rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_PER_KEY_PER_MINUTE: '3', RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '2' });
  });
  afterAll(() => t.close());

  it('spends the per-key allowance with X-RateLimit headers, then answers 429 with Retry-After', async () => {
    const inst = await createInstance(t);
    const first = await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(Number(first.headers['x-ratelimit-remaining'])).toBeLessThanOrEqual(2);
    expect(Number(first.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    let refused: Response | undefined;
    // A window boundary may fall inside the loop; the limit is still hit well within twice its size.
    for (let i = 0; i < 8 && !refused; i++) {
      const res = await t.http().get('/api/auth/verify').set('X-API-Key', inst.key);
      if (res.status === 429) refused = res;
    }
    expect(refused!.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    const other = await createInstance(t);
    await t.http().get('/api/auth/verify').set('X-API-Key', other.key).expect(200);
  });

  it('limits self-service key changes per instance', async () => {
    const inst = await createInstance(t);
    const statuses: number[] = [];
    for (let i = 0; i < 6 && !statuses.includes(429); i++) {
      statuses.push((await t.http().post(`/api/keys/00000000-0000-4000-8000-00000000000${i}/revoke`).set('X-API-Key', inst.key)).status);
    }
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 429).every((s) => s === 404)).toBe(true);
  });
});
