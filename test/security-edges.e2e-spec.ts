import { randomUUID } from 'node:crypto';
import type { QueryRunner } from 'typeorm';
import { adminKeys, createInstance } from './support/instance-fixtures';
import { pinClockInsideOneMinute, pollUntil } from './support/scale-helpers';
import { LIMITS_OUT_OF_REACH, onPostgresServer, startTestApp, TestApp } from './support/test-app';

/**
 * Issue #11, items 2-6: what must hold when requests run in parallel or in flight. On a PostgreSQL
 * server the parallel requests are spread over two app instances (two replicas, two pools); the
 * in-flight tests hold a row lock from another session, which needs a server.
 */
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const apiKey = (key: string) => ({ 'X-API-Key': key });
const tally = (rs: Array<{ status: number; body: { error?: { code: string } } }>) =>
  rs.map((r) => `${r.status}${r.body.error ? ` ${r.body.error.code}` : ''}`).sort();
const TRIALS = 10;
const PARALLEL = 20;

async function registerDeveloper(t: TestApp): Promise<{ id: string; token: string }> {
  const res = await t
    .http()
    .post('/api/mica/developer/register')
    .send({ name: 'Edge Tester', email: `edge.${randomUUID()}@example.com` })
    .expect(201);
  return { id: res.body.data.developer.id, token: res.body.data.managementToken };
}

/** Holds `sql`'s row lock in an open transaction of `t`'s pool until the returned runner commits. */
async function holdLock(t: TestApp, sql: string, params: unknown[]): Promise<QueryRunner> {
  const runner = t.dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  await runner.query(sql, params);
  return runner;
}

/** Resolves once some other session waits on a lock that `runner`'s session holds. */
async function someoneWaitsOn(runner: QueryRunner): Promise<void> {
  const [{ pid }] = await runner.query('SELECT pg_backend_pid() AS pid');
  const waiting = await pollUntil(
    async () =>
      (
        await runner.manager.connection.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, [
          pid,
        ])
      )[0].n,
    (n: number) => n > 0,
    5000,
  );
  expect(waiting).toBeGreaterThan(0);
}

describe('security at the edges: concurrent and in-flight changes', () => {
  const apps: TestApp[] = [];
  beforeAll(async () => {
    apps.push(await startTestApp(LIMITS_OUT_OF_REACH));
    if (onPostgresServer) apps.push(await startTestApp(LIMITS_OUT_OF_REACH));
  });
  afterAll(() => Promise.all(apps.map((a) => a.close())));
  const t = () => apps[0];
  const replica = (i: number) => apps[i % apps.length];

  describe('#11 item 2: management-token rotation is a compare-and-set', () => {
    it(`lets exactly one of ${PARALLEL} parallel rotations with one token succeed (${TRIALS} trials); the others get INVALID_TOKEN and the winner's token works`, async () => {
      for (let trial = 0; trial < TRIALS; trial++) {
        const dev = await registerDeveloper(t());
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            replica(i).http().post('/api/mica/developer/management-token/rotate').set(bearer(dev.token)),
          ),
        );
        expect(tally(results)).toEqual(['201', ...Array(PARALLEL - 1).fill('401 INVALID_TOKEN')]);
        const winner = results.find((r) => r.status === 201)!.body.data.managementToken;
        await t().http().get('/api/mica/developer/keys').set(bearer(winner)).expect(200);
        await t().http().get('/api/mica/developer/keys').set(bearer(dev.token)).expect(401);
      }
    });
  });

  describe('#11 item 3: a change in flight when its credential is revoked or rotated away changes nothing', () => {
    const serverOnly = onPostgresServer ? it : it.skip;

    serverOnly(
      'refuses a self-service create with AUTH_FAILED when the acting key is revoked while the request waits for the instance lock',
      async () => {
        for (let trial = 0; trial < 3; trial++) {
          const inst = await createInstance(t());
          const lock = await holdLock(t(), `SELECT id FROM instances WHERE id = $1 FOR UPDATE`, [inst.id]);
          const inFlight = t()
            .http()
            .post('/api/keys')
            .set(apiKey(inst.key))
            .send({ name: 'minted in flight' })
            .then((r) => r);
          await someoneWaitsOn(lock);
          await lock.query(`UPDATE instance_keys SET status = 'REVOKED', revoked_at = now() WHERE id = $1`, [inst.keyId]);
          await lock.commitTransaction();
          await lock.release();
          const res = await inFlight;
          expect([res.status, res.body.error?.code]).toEqual([401, 'AUTH_FAILED']);
          const [{ n }] = await t().dataSource.query(`SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1`, [inst.id]);
          expect(n).toBe(1);
        }
      },
    );

    serverOnly(
      'refuses a self-service revoke with KEY_NOT_ACTIVE (403) when the acting key is rotated while the request waits',
      async () => {
        const inst = await createInstance(t());
        const other = (await t().http().post(adminKeys(inst.ref)).set(t().admin).send({ name: 'other' }).expect(201)).body.data;
        const lock = await holdLock(t(), `SELECT id FROM instances WHERE id = $1 FOR UPDATE`, [inst.id]);
        const inFlight = t()
          .http()
          .post(`/api/keys/${other.id}/revoke`)
          .set(apiKey(inst.key))
          .then((r) => r);
        await someoneWaitsOn(lock);
        await lock.query(`UPDATE instance_keys SET status = 'PENDING_ROTATION', expires_at = now() + interval '1 day' WHERE id = $1`, [
          inst.keyId,
        ]);
        await lock.commitTransaction();
        await lock.release();
        const res = await inFlight;
        expect([res.status, res.body.error?.code]).toEqual([403, 'KEY_NOT_ACTIVE']);
        const [row] = await t().dataSource.query(`SELECT status FROM instance_keys WHERE id = $1`, [other.id]);
        expect(row.status).toBe('ACTIVE');
      },
    );

    serverOnly(
      'refuses a MiCA key create with INVALID_TOKEN when the management token is rotated away while the request waits',
      async () => {
        for (let trial = 0; trial < 3; trial++) {
          const dev = await registerDeveloper(t());
          const lock = await holdLock(t(), `SELECT id FROM mica_developers WHERE id = $1 FOR UPDATE`, [dev.id]);
          const inFlight = t()
            .http()
            .post('/api/mica/developer/keys')
            .set(bearer(dev.token))
            .send({ name: 'in flight' })
            .then((r) => r);
          await someoneWaitsOn(lock);
          await lock.query(`UPDATE mica_developers SET management_token_digest = sha256(convert_to($2, 'UTF8')) WHERE id = $1`, [
            dev.id,
            randomUUID(),
          ]);
          await lock.commitTransaction();
          await lock.release();
          const res = await inFlight;
          expect([res.status, res.body.error?.code]).toEqual([401, 'INVALID_TOKEN']);
          const [{ n }] = await t().dataSource.query(`SELECT count(*)::int AS n FROM mica_keys WHERE developer_id = $1`, [dev.id]);
          expect(n).toBe(1);
        }
      },
    );
  });

  describe('#11 item 4: rotation chains are bounded (at most cap keys in PENDING_ROTATION)', () => {
    it('refuses the rotation past the cap with KEY_LIMIT_REACHED at the admin door', async () => {
      const inst = await createInstance(t());
      const cap = t().config.keys.maxActivePerInstance;
      let current = inst.keyId;
      for (let i = 0; i < cap; i++)
        current = (
          await t()
            .http()
            .post(adminKeys(inst.ref, `/${current}/rotate`))
            .set(t().admin)
            .send({})
            .expect(201)
        ).body.data.id;
      const res = await t()
        .http()
        .post(adminKeys(inst.ref, `/${current}/rotate`))
        .set(t().admin)
        .send({});
      expect([res.status, res.body.error?.code]).toEqual([409, 'KEY_LIMIT_REACHED']);
      const [{ passing }] = await t().dataSource.query(
        `SELECT count(*)::int AS passing FROM instance_keys WHERE instance_id = $1 AND status IN ('ACTIVE', 'PENDING_ROTATION') AND (expires_at IS NULL OR expires_at > now())`,
        [inst.id],
      );
      expect(passing).toBe(cap + 1);
    });

    it('refuses the rotation past the cap with KEY_LIMIT_REACHED at the self-service door, and allows it again once an old key is revoked', async () => {
      const inst = await createInstance(t());
      const cap = t().config.keys.maxActivePerInstance;
      let current = { id: inst.keyId, key: inst.key };
      const first = inst.keyId;
      for (let i = 0; i < cap; i++) {
        const data = (await t().http().post(`/api/keys/${current.id}/rotate`).set(apiKey(current.key)).send({}).expect(201)).body.data;
        current = { id: data.id, key: data.key };
      }
      const res = await t().http().post(`/api/keys/${current.id}/rotate`).set(apiKey(current.key)).send({});
      expect([res.status, res.body.error?.code]).toEqual([409, 'KEY_LIMIT_REACHED']);
      await t().http().post(`/api/keys/${first}/revoke`).set(apiKey(current.key)).expect(200);
      await t().http().post(`/api/keys/${current.id}/rotate`).set(apiKey(current.key)).send({}).expect(201);
    });

    it('holds the bound under parallel rotations of different keys', async () => {
      const inst = await createInstance(t());
      const cap = t().config.keys.maxActivePerInstance;
      const ids = [inst.keyId];
      for (let i = 1; i < cap; i++)
        ids.push(
          (
            await t()
              .http()
              .post(adminKeys(inst.ref))
              .set(t().admin)
              .send({ name: `k${i}` })
              .expect(201)
          ).body.data.id,
        );
      // cap ACTIVE keys; rotate each (cap rotations), then all the successors at once: none may pass the bound.
      const successors = await Promise.all(
        ids.map((id, i) =>
          replica(i)
            .http()
            .post(adminKeys(inst.ref, `/${id}/rotate`))
            .set(replica(i).admin)
            .send({}),
        ),
      );
      expect(successors.every((r) => r.status === 201)).toBe(true);
      const second = await Promise.all(
        successors.map((r, i) =>
          replica(i)
            .http()
            .post(adminKeys(inst.ref, `/${r.body.data.id}/rotate`))
            .set(replica(i).admin)
            .send({}),
        ),
      );
      expect(tally(second)).toEqual(Array(cap).fill('409 KEY_LIMIT_REACHED'));
    });
  });

  describe('#11 item 5: a key in its rotation overlap passes checks but cannot manage keys', () => {
    it('answers 403 KEY_NOT_ACTIVE to the old key on every self-service change, while it still verifies and reads', async () => {
      const inst = await createInstance(t(), ['trading']);
      const successor = (await t().http().post(`/api/keys/${inst.keyId}/rotate`).set(apiKey(inst.key)).send({}).expect(201)).body.data;
      await t().http().get('/api/auth/verify?service=trading').set(apiKey(inst.key)).expect(200);
      await t().http().get('/api/keys').set(apiKey(inst.key)).expect(200);
      const attempts = await Promise.all([
        t().http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'forever' }),
        t().http().post(`/api/keys/${successor.id}/revoke`).set(apiKey(inst.key)),
        t().http().post(`/api/keys/${successor.id}/pause`).set(apiKey(inst.key)).send({ durationSeconds: 60 }),
        t().http().post(`/api/keys/${successor.id}/rotate`).set(apiKey(inst.key)).send({}),
        t().http().post(`/api/keys/${successor.id}/resume`).set(apiKey(inst.key)),
        t().http().delete(`/api/keys/${successor.id}`).set(apiKey(inst.key)),
      ]);
      expect(tally(attempts)).toEqual(Array(6).fill('403 KEY_NOT_ACTIVE'));
      const [row] = await t().dataSource.query(`SELECT status FROM instance_keys WHERE id = $1`, [successor.id]);
      expect(row.status).toBe('ACTIVE');
      const [{ n }] = await t().dataSource.query(`SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1`, [inst.id]);
      expect(n).toBe(2);
    });
  });
});

describe('#11 item 6: one leaked key cannot stop its own revocation', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '5' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('revokes the leaked key with 200 after it spent its key-management allowance on junk, and the owner still creates', async () => {
    pinClockInsideOneMinute();
    const inst = await createInstance(t);
    const leaked = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'leaked' }).expect(201)).body.data;
    const junk = [];
    for (let i = 0; i < 30; i++) junk.push(await t.http().post('/api/keys').set(apiKey(leaked.key)).send({ name: '' }));
    expect(junk.slice(-1)[0].status).toBe(429);
    // The leaked key's own brakes are not limited either.
    await t.http().post(`/api/keys/${leaked.id}/pause`).set(apiKey(leaked.key)).send({ durationSeconds: 3600 }).expect(200);
    await t.http().post(`/api/keys/${leaked.id}/revoke`).set(apiKey(inst.key)).expect(200);
    await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'replacement' }).expect(201);
  });

  it('lets a MiCA developer revoke a key and replace the management token after a leaked token spent the allowance', async () => {
    pinClockInsideOneMinute();
    const dev = await registerDeveloper(t);
    const keys = (await t.http().get('/api/mica/developer/keys').set(bearer(dev.token)).expect(200)).body.data.keys;
    for (let i = 0; i < 10; i++) await t.http().get('/api/mica/developer/keys').set(bearer(dev.token));
    await t.http().get('/api/mica/developer/keys').set(bearer(dev.token)).expect(429);
    await t.http().delete(`/api/mica/developer/keys/${keys[0].id}`).set(bearer(dev.token)).expect(200);
    await t.http().post('/api/mica/developer/management-token/rotate').set(bearer(dev.token)).expect(201);
  });

  it('never refuses revoke or pause with the key-management limit', async () => {
    pinClockInsideOneMinute();
    const inst = await createInstance(t);
    const ids: string[] = [];
    for (let i = 0; i < 8; i++)
      ids.push(
        (
          await t
            .http()
            .post(adminKeys(inst.ref))
            .set(t.admin)
            .send({ name: `k${i}` })
            .expect(201)
        ).body.data.id,
      );
    for (let i = 0; i < 5; i++) await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: '' });
    await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'x' }).expect(429);
    for (const id of ids.slice(0, 4))
      await t.http().post(`/api/keys/${id}/pause`).set(apiKey(inst.key)).send({ durationSeconds: 60 }).expect(200);
    for (const id of ids) await t.http().post(`/api/keys/${id}/revoke`).set(apiKey(inst.key)).expect(200);
  });
});

describe('#11 item 7: per-address limits see one client however its address is written', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, RATE_LIMIT_STRICT_PER_MINUTE: '10', TRUST_PROXY: 'true' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  const hex = () => Math.floor(Math.random() * 0xffff).toString(16);
  const signup = (address: string) =>
    t
      .http()
      .post('/api/mica/developer/register')
      .set('X-Forwarded-For', address)
      .send({ name: 'Edge Tester', email: `addr.${randomUUID()}@example.com` });

  it('counts 25 addresses of one IPv6 /64 as one client: 10 signups pass, 15 get 429', async () => {
    pinClockInsideOneMinute();
    const net = `2001:db8:${hex()}:${hex()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push((await signup(`${net}:${hex()}:${hex()}:${hex()}:${i.toString(16)}`)).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
  });

  it('counts one IPv4 address in dotted, IPv4-mapped and hex-mapped spellings as one client', async () => {
    pinClockInsideOneMinute();
    const [c, d] = [1 + Math.floor(Math.random() * 250), 1 + Math.floor(Math.random() * 250)];
    const v4 = `198.51.${c}.${d}`;
    const hexMapped = `::ffff:c633:${((c << 8) | d).toString(16)}`;
    const spellings = [v4, `::ffff:${v4}`, `::FFFF:${v4}`, hexMapped, `0:0:0:0:0:ffff:${v4}`];
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push((await signup(spellings[i % spellings.length])).status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.slice(10).every((s) => s === 429)).toBe(true);
  });

  it('counts failed admin attempts by /64 and records the canonical address in the audit trail', async () => {
    pinClockInsideOneMinute();
    const net = `2001:DB8:${hex()}:${hex()}`;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (
          await t
            .http()
            .get('/api/admin/instances')
            .set('X-Forwarded-For', `${net}:0:0:0:${i + 1}`)
            .set('Authorization', 'Bearer wrong-token-of-some-length-0123456789')
        ).status,
      );
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429]);
    const v4 = `203.0.113.${1 + Math.floor(Math.random() * 250)}`;
    const requestId = `addr-${randomUUID()}`;
    await t
      .http()
      .get('/api/admin/instances')
      .set('X-Forwarded-For', `::ffff:${v4}`)
      .set('X-Request-Id', requestId)
      .set('Authorization', 'Bearer nope-nope-nope-nope')
      .expect(401);
    const [row] = await t.dataSource.query(`SELECT ip FROM audit_events WHERE request_id = $1`, [requestId]);
    expect(row.ip).toBe(v4);
  });
});
