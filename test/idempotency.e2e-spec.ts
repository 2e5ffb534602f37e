import { randomUUID } from 'node:crypto';
import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { SECRET_SHAPES } from './support/secret-scan';
import { LIMITS_OUT_OF_REACH, onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { IdempotencyService } from '../src/idempotency/idempotency.service';
import { InstanceKeysService } from '../src/instance-keys/instance-keys.service';

/** SPEC §13: Idempotency-Key on every create and rotate. */
const SECRETS_KEY = 'idempotency-suite-secrets-key-0123456789';
const ENV = { ...LIMITS_OUT_OF_REACH, SECRETS_KEY };

const email = () => `idem.${randomUUID()}@example.com`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('idempotent writes (SPEC §13)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ENV);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const activeKeys = async (instanceId: string): Promise<number> => {
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1 AND status IN ('ACTIVE', 'PAUSED')`,
      [instanceId],
    );
    return n;
  };
  const register = async () =>
    (await t.http().post('/api/mica/developer/register').send({ name: 'Idem Dev', email: email() }).expect(201)).body.data;

  /** Every create and rotate route, each with a fresh target, as [name, send(idempotencyKey?)]. */
  type Send = (key?: string) => ReturnType<ReturnType<TestApp['http']>['post']>;
  type Route = [string, () => Send | Promise<Send>];
  const routes: Route[] = [
    [
      'POST /api/admin/instances',
      () => {
        const name = `Idem ${randomUUID()}`;
        return (key) =>
          withKey(
            t
              .http()
              .post('/api/admin/instances')
              .set(t.admin)
              .send({ name, services: ['trading'] }),
            key,
          );
      },
    ],
    [
      'POST /api/admin/instances/{ref}/keys',
      async () => {
        const inst = await createInstance(t);
        return (key) => withKey(t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'by admin' }), key);
      },
    ],
    [
      'POST /api/admin/instances/{ref}/keys/{id}/rotate',
      async () => {
        const inst = await createInstance(t);
        return (key) =>
          withKey(
            t
              .http()
              .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
              .set(t.admin)
              .send({ overlapSeconds: 60 }),
            key,
          );
      },
    ],
    [
      'POST /api/keys',
      async () => {
        const inst = await createInstance(t);
        return (key) => withKey(t.http().post('/api/keys').set('X-API-Key', inst.key).send({ name: 'self' }), key);
      },
    ],
    [
      'POST /api/keys/{id}/rotate',
      async () => {
        const inst = await createInstance(t);
        const other = (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'other' }).expect(201)).body.data;
        return (key) => withKey(t.http().post(`/api/keys/${other.id}/rotate`).set('X-API-Key', inst.key).send({}), key);
      },
    ],
    [
      'POST /api/mica/developer/register',
      () => {
        const body = { name: 'Idem Dev', email: email() };
        return (key) => withKey(t.http().post('/api/mica/developer/register').send(body), key);
      },
    ],
    [
      'POST /api/mica/developer/keys',
      async () => {
        const reg = await register();
        return (key) => withKey(t.http().post('/api/mica/developer/keys').set(bearer(reg.managementToken)).send({ name: 'second' }), key);
      },
    ],
    [
      'POST /api/mica/developer/keys/{id}/rotate',
      async () => {
        const reg = await register();
        const list = await t.http().get('/api/mica/developer/keys').set(bearer(reg.managementToken)).expect(200);
        return (key) =>
          withKey(
            t.http().post(`/api/mica/developer/keys/${list.body.data.keys[0].id}/rotate`).set(bearer(reg.managementToken)).send({}),
            key,
          );
      },
    ],
  ];
  function withKey<T extends { set(name: string, value: string): T }>(req: T, key?: string): T {
    return key === undefined ? req : req.set('Idempotency-Key', key);
  }

  describe.each(routes)('%s', (_, prepare) => {
    it('answers a repeat with the first answer (status and body, secret included) and does the work once', async () => {
      const send = await prepare();
      const key = randomUUID();
      const first = await send(key);
      expect(first.status).toBe(201);
      const again = await send(key);
      expect(again.status).toBe(201);
      expect(again.body.data).toEqual(first.body.data);
      expect(again.headers['idempotent-replayed']).toBe('true');
      expect(again.headers['cache-control']).toBe('no-store');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
    });

    it('refuses the same Idempotency-Key on another request with IDEMPOTENCY_KEY_REUSED', async () => {
      const send = await prepare();
      const key = randomUUID();
      expect((await send(key)).status).toBe(201);
      const other = await withKey(t.http().post('/api/admin/instances').set(t.admin).send({ name: 'Something else' }), key);
      // Another principal's keys are its own: only the admin, who used this key, sees the reuse.
      if (_.startsWith('POST /api/admin')) expect([other.status, other.body.error?.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
      else expect(other.status).toBe(201);
    });
  });

  it('does the work again without the header', async () => {
    const inst = await createInstance(t);
    const a = await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'k' }).expect(201);
    const b = await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'k' }).expect(201);
    expect(a.body.data.id).not.toBe(b.body.data.id);
  });

  it('refuses another body under the same key, even one differing in a single field', async () => {
    const inst = await createInstance(t);
    const key = randomUUID();
    await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'one' }).expect(201);
    const res = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'two' });
    expect([res.status, res.body.error.code]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED']);
    // Key order does not make another body.
    const inst2 = await createInstance(t);
    const k2 = randomUUID();
    const x = await t
      .http()
      .post(adminKeys(inst2.ref))
      .set(t.admin)
      .set('Idempotency-Key', k2)
      .send({ name: 'n', expiresAt: '2099-01-01T00:00:00Z' })
      .expect(201);
    const y = await t
      .http()
      .post(adminKeys(inst2.ref))
      .set(t.admin)
      .set('Idempotency-Key', k2)
      .send({ expiresAt: '2099-01-01T00:00:00Z', name: 'n' })
      .expect(201);
    expect(y.body.data.key).toBe(x.body.data.key);
  });

  it('keeps principals apart: the same Idempotency-Key from two instance keys creates two keys', async () => {
    const a = await createInstance(t);
    const b = await createInstance(t);
    const key = randomUUID();
    const ra = await t.http().post('/api/keys').set('X-API-Key', a.key).set('Idempotency-Key', key).send({ name: 'same' }).expect(201);
    const rb = await t.http().post('/api/keys').set('X-API-Key', b.key).set('Idempotency-Key', key).send({ name: 'same' }).expect(201);
    expect(ra.body.data.id).not.toBe(rb.body.data.id);
  });

  it.each([
    ['empty', ''],
    ['too long', 'x'.repeat(256)],
    ['with a space', 'a b'],
    ['non-ASCII', 'clé'],
  ])('refuses an Idempotency-Key that is %s with VALIDATION_ERROR', async (_, value) => {
    const inst = await createInstance(t);
    const res = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', value).send({ name: 'k' });
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    expect(await activeKeys(inst.id)).toBe(1);
  });

  it('stores no failure: a create refused at the cap succeeds when retried with the same key after room is made', async () => {
    const inst = await createInstance(t);
    const key = randomUUID();
    const ids: string[] = [];
    for (let i = 0; i < 9; i++)
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
    const refused = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'eleventh' });
    expect(refused.body.error.code).toBe('KEY_LIMIT_REACHED');
    await t
      .http()
      .post(adminKeys(inst.ref, `/${ids[0]}/revoke`))
      .set(t.admin)
      .expect(200);
    await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'eleventh' }).expect(201);
  });

  it('makes one key of 10 concurrent identical creates at 9 keys, and gives all ten the same answer (10 trials)', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const inst = await createInstance(t);
      for (let i = 0; i < 8; i++)
        await t
          .http()
          .post(adminKeys(inst.ref))
          .set(t.admin)
          .send({ name: `k${i}` })
          .expect(201);
      expect(await activeKeys(inst.id)).toBe(9);
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 10 }, () =>
          t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'tenth' }),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(answers.map((r) => JSON.stringify(r.body.data))).size).toBe(1);
      expect(await activeKeys(inst.id)).toBe(10);
    }
  });

  it('answers IDEMPOTENCY_IN_PROGRESS while the first request runs past IDEMPOTENCY_WAIT_MS, then replays its answer', async () => {
    const quick = await startTestApp({ ...ENV, IDEMPOTENCY_WAIT_MS: '100' });
    try {
      const inst = await createInstance(quick);
      const keys = quick.app.get(InstanceKeysService);
      const create = keys.create.bind(keys);
      let enter!: () => void;
      const entered = new Promise<void>((r) => (enter = r));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      // The first request is held inside the real service until released.
      jest.spyOn(keys, 'create').mockImplementationOnce(async (...args) => {
        enter();
        await gate;
        return create(...args);
      });
      const key = randomUUID();
      const send = () => quick.http().post(adminKeys(inst.ref)).set(quick.admin).set('Idempotency-Key', key).send({ name: 'slow' });
      const first = send().then((r) => r);
      await entered;
      const second = await send();
      expect([second.status, second.body.error?.code]).toEqual([409, 'IDEMPOTENCY_IN_PROGRESS']);
      release();
      expect((await first).status).toBe(201);
      const third = await send().expect(201);
      expect(third.body.data).toEqual((await first).body.data);
    } finally {
      await quick.close();
    }
  });

  it('lets an identical retry take over a claim whose request died more than 60 s ago', async () => {
    const inst = await createInstance(t);
    const key = randomUUID();
    const body = { name: 'orphaned' };
    const crypto = t.app.get(IdempotencyService).crypto;
    // What a replica killed in the middle of this request leaves behind.
    await t.dataSource.query(
      `INSERT INTO idempotency_records (id, fingerprint, state, claim, claimed_at, expires_at)
       VALUES ($1, $2, 'in_progress', gen_random_uuid(), now() - interval '61 seconds', now() + interval '23 hours')`,
      [crypto.recordId('admin', key), crypto.fingerprint('POST', adminKeys(inst.ref), body)],
    );
    const res = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send(body).expect(201);
    const again = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send(body).expect(201);
    expect(again.body.data.key).toBe(res.body.data.key);
    expect(await activeKeys(inst.id)).toBe(2);
  });

  it('forgets an answer after 24 hours: the record is pruned and the key does new work', async () => {
    const inst = await createInstance(t);
    const key = randomUUID();
    const first = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'day-old' }).expect(201);
    const service = t.app.get(IdempotencyService);
    const id = service.crypto.recordId('admin', key);
    const [{ hours }] = await t.dataSource.query(
      `SELECT round(extract(epoch FROM expires_at - created_at) / 3600)::int AS hours FROM idempotency_records WHERE id = $1`,
      [id],
    );
    expect(hours).toBe(24);
    await t.dataSource.query(
      `UPDATE idempotency_records SET created_at = now() - interval '25 hours', expires_at = now() - interval '1 hour' WHERE id = $1`,
      [id],
    );
    expect(await service.prune()).toBeGreaterThanOrEqual(1);
    expect(await t.dataSource.query(`SELECT 1 FROM idempotency_records WHERE id = $1`, [id])).toHaveLength(0);
    const later = await t.http().post(adminKeys(inst.ref)).set(t.admin).set('Idempotency-Key', key).send({ name: 'day-old' }).expect(201);
    expect(later.body.data.id).not.toBe(first.body.data.id);
  });

  it('leaves no replayable secret in a dump of every table', async () => {
    const secrets: string[] = [];
    const idem = () => ({ 'Idempotency-Key': randomUUID() });
    const created = (await t.http().post('/api/admin/instances').set(t.admin).set(idem()).send({ name: 'Dumped' }).expect(201)).body.data;
    secrets.push(created.key.key);
    const inst: TestInstance = { ref: created.instance.instanceRef, id: created.instance.id, key: created.key.key, keyId: created.key.id };
    secrets.push((await t.http().post(adminKeys(inst.ref)).set(t.admin).set(idem()).send({ name: 'two' }).expect(201)).body.data.key);
    secrets.push(
      (await t.http().post('/api/keys').set('X-API-Key', inst.key).set(idem()).send({ name: 'three' }).expect(201)).body.data.key,
    );
    secrets.push(
      (
        await t
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
          .set(t.admin)
          .set(idem())
          .send({})
          .expect(201)
      ).body.data.key,
    );
    const reg = (await t.http().post('/api/mica/developer/register').set(idem()).send({ name: 'Dumped Dev', email: email() }).expect(201))
      .body.data;
    secrets.push(reg.apiKey, reg.managementToken);
    secrets.push(
      (await t.http().post('/api/mica/developer/keys').set(bearer(reg.managementToken)).set(idem()).send({}).expect(201)).body.data.apiKey,
    );
    const token = (
      await t.http().post('/api/mica/developer/management-token/rotate').set(bearer(reg.managementToken)).set(idem()).send({}).expect(201)
    ).body.data.managementToken;
    secrets.push(token);

    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM idempotency_records WHERE state = 'done'`);
    expect(n).toBeGreaterThanOrEqual(8);
    // Each secret as text, as the bytes of that text in hex (how bytea renders), and in base64.
    const forms = secrets.flatMap((s) => [s, Buffer.from(s).toString('hex'), Buffer.from(s).toString('base64'), s.slice(-64)]);
    const tables: Array<{ name: string }> = await t.dataSource.query(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
    );
    expect(tables.map((r) => r.name)).toContain('idempotency_records');
    const offences: string[] = [];
    for (const { name } of tables) {
      const rows: Array<{ row: string }> = await t.dataSource.query(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
      for (const { row } of rows) {
        for (const form of forms) if (row.includes(form)) offences.push(`${name} holds an issued secret`);
        if (name === 'idempotency_records') {
          for (const [shape, pattern] of SECRET_SHAPES)
            if (pattern.test(row.replace(/\\\\x[0-9a-f]+/g, ''))) offences.push(`${name} holds something shaped like a ${shape}`);
        }
      }
    }
    expect(offences).toEqual([]);
  });
});

/** A second replica on the same server: it replays the first's answers, or, under another SECRETS_KEY, none. */
(onPostgresServer ? describe : describe.skip)('idempotent answers across replicas (needs a PostgreSQL server)', () => {
  let a: TestApp;
  let b: TestApp;
  let stranger: TestApp;
  beforeAll(async () => {
    a = await startTestApp(ENV);
    b = await startTestApp(ENV);
    stranger = await startTestApp({ ...ENV, SECRETS_KEY: 'another-deployment-secret-0123456789abcdef' });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await stranger?.close();
  });

  it('replays on B what A answered, and makes one key of concurrent creates spread over both', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const inst = await createInstance(a);
      for (let i = 0; i < 8; i++)
        await a
          .http()
          .post(adminKeys(inst.ref))
          .set(a.admin)
          .send({ name: `k${i}` })
          .expect(201);
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          (i % 2 ? a : b).http().post(adminKeys(inst.ref)).set(a.admin).set('Idempotency-Key', key).send({ name: 'tenth' }),
        ),
      );
      expect(answers.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(answers.map((r) => r.body.data.key)).size).toBe(1);
      const [{ n }] = await a.dataSource.query(`SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1`, [inst.id]);
      expect(n).toBe(10);
    }
  });

  it('cannot open a stored answer without the SECRETS_KEY it was sealed under', async () => {
    const inst = await createInstance(a);
    const key = randomUUID();
    const first = await a.http().post(adminKeys(inst.ref)).set(a.admin).set('Idempotency-Key', key).send({ name: 'sealed' }).expect(201);
    // Under another secret the record has another name: the request is new work, never the first secret.
    const other = await stranger.http().post(adminKeys(inst.ref)).set(stranger.admin).set('Idempotency-Key', key).send({ name: 'sealed' });
    expect(other.status).toBe(201);
    expect(other.body.data.key).not.toBe(first.body.data.key);
    // And the sealed bytes themselves, read with the right record name, do not open under another secret.
    const id = a.app.get(IdempotencyService).crypto.recordId('admin', key);
    const [row] = await a.dataSource.query(`SELECT sealed FROM idempotency_records WHERE id = $1`, [id]);
    expect(stranger.app.get(IdempotencyService).crypto.open('admin', key, id, row.sealed)).toBeNull();
    expect(a.app.get(IdempotencyService).crypto.open('admin', key, id, row.sealed)).toContain(first.body.data.key);
  });
});
