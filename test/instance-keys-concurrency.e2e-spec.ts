import { adminKeys, createInstance } from './support/instance-fixtures';
import { onPostgresServer, startTestApp, TestApp } from './support/test-app';

/**
 * Races on the key lifecycle. On a PostgreSQL server the requests are spread over two app instances,
 * each with its own connection pool, as two replicas would be; the embedded database has a single
 * connection, so there the same assertions run through one app.
 */
describe('instance keys under concurrent requests', () => {
  const apps: TestApp[] = [];
  beforeAll(async () => {
    apps.push(await startTestApp());
    if (onPostgresServer) apps.push(await startTestApp());
  });
  afterAll(() => Promise.all(apps.map((a) => a.close())));

  const replica = (i: number) => apps[i % apps.length];
  const t = () => apps[0];
  const tally = (statuses: Array<{ status: number; code?: string }>) =>
    statuses.map((s) => `${s.status}${s.code ? ` ${s.code}` : ''}`).sort();

  it('lets exactly one of 6 parallel creates at 9 keys through, the others get KEY_LIMIT_REACHED', async () => {
    for (let round = 0; round < 5; round++) {
      const inst = await createInstance(t());
      for (let i = 0; i < 8; i++)
        await t()
          .http()
          .post(adminKeys(inst.ref))
          .set(t().admin)
          .send({ name: `k${i}` })
          .expect(201);
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          i % 2 === 0
            ? replica(i)
                .http()
                .post(adminKeys(inst.ref))
                .set(replica(i).admin)
                .send({ name: `race${i}` })
            : replica(i)
                .http()
                .post('/api/keys')
                .set('X-API-Key', inst.key)
                .send({ name: `race${i}` }),
        ),
      );
      expect(tally(results.map((r) => ({ status: r.status, code: r.body.error?.code })))).toEqual([
        '201',
        '409 KEY_LIMIT_REACHED',
        '409 KEY_LIMIT_REACHED',
        '409 KEY_LIMIT_REACHED',
        '409 KEY_LIMIT_REACHED',
        '409 KEY_LIMIT_REACHED',
      ]);
      const [{ n }] = await t().dataSource.query(`SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1`, [inst.id]);
      expect(n).toBe(10);
    }
  });

  it('lets exactly one of 5 parallel rotations of one key through, the others get KEY_NOT_ACTIVE', async () => {
    for (let round = 0; round < 5; round++) {
      const inst = await createInstance(t());
      const results = await Promise.all(
        Array.from({ length: 5 }, (_, i) =>
          replica(i)
            .http()
            .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
            .set(replica(i).admin)
            .send({}),
        ),
      );
      expect(tally(results.map((r) => ({ status: r.status, code: r.body.error?.code })))).toEqual([
        '201',
        '409 KEY_NOT_ACTIVE',
        '409 KEY_NOT_ACTIVE',
        '409 KEY_NOT_ACTIVE',
        '409 KEY_NOT_ACTIVE',
      ]);
      const successors = await t().dataSource.query(`SELECT id FROM instance_keys WHERE replaces_key_id = $1`, [inst.keyId]);
      expect(successors).toHaveLength(1);
    }
  });

  it('leaves a state some serial order of revoke and rotate would have produced', async () => {
    for (let round = 0; round < 6; round++) {
      const inst = await createInstance(t());
      const [revoke, rotate] = await Promise.all([
        replica(round)
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
          .set(t().admin),
        replica(round + 1)
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
          .set(t().admin)
          .send({}),
      ]);
      const keys = (await t().http().get(adminKeys(inst.ref)).set(t().admin).expect(200)).body.data;
      const old = keys.find((k: { id: string }) => k.id === inst.keyId);
      expect(revoke.status).toBe(200);
      expect(old.status).toBe('REVOKED');
      if (rotate.status === 201) {
        // rotate, then revoke: the old key's overlap was ended early; the successor lives.
        expect(old.replacedByKeyId).toBe(rotate.body.data.id);
        expect(keys.map((k: { id: string; status: string }) => [k.id, k.status])).toEqual([
          [rotate.body.data.id, 'ACTIVE'],
          [inst.keyId, 'REVOKED'],
        ]);
      } else {
        // revoke, then rotate: nothing to rotate.
        expect([rotate.status, rotate.body.error.code]).toEqual([409, 'KEY_NOT_ACTIVE']);
        expect(keys).toHaveLength(1);
        expect(old.replacedByKeyId).toBeNull();
      }
    }
  });

  it('refuses a second successor of one key in the database itself', async () => {
    const inst = await createInstance(t());
    const insert = () =>
      t().dataSource.query(
        `INSERT INTO instance_keys (instance_id, name, key_digest, key_prefix, key_hint, replaces_key_id)
         VALUES ($1, 'x', sha256(gen_random_uuid()::text::bytea), 'p', 'h', $2)`,
        [inst.id, inst.keyId],
      );
    await insert();
    await expect(insert()).rejects.toMatchObject({
      driverError: expect.objectContaining({ code: '23505', constraint: 'instance_keys_one_successor' }),
    });
  });
});
