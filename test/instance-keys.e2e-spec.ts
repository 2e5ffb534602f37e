import { capturedLogLines } from './support/log-capture';
import { adminKeys, createInstance } from './support/instance-fixtures';
import { startTestApp, TestApp } from './support/test-app';

const KEY_FORMAT = /^trusset_[A-Za-z0-9]{8}_[0-9a-f]{64}$/;
const LIST_FIELDS = [
  'allowedCidrs',
  'createdAt',
  'expiresAt',
  'id',
  'keyHint',
  'keyPrefix',
  'lastUsedAt',
  'name',
  'pausedUntil',
  'rateLimitPerMinute',
  'replacedByKeyId',
  'replacesKeyId',
  'requestCount',
  'revokedAt',
  'rotatedAt',
  'services',
  'status',
];

describe('instance keys', () => {
  let t: TestApp;
  const issued: string[] = [];
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  const fresh = async (services: string[] = []) => {
    const inst = await createInstance(t, services);
    issued.push(inst.key);
    return inst;
  };
  const asKey = (key: string) => ({ 'X-API-Key': key });
  const verify = (key: string) => t.http().get('/api/auth/verify').set(asKey(key));
  const adminCreate = async (ref: string, body: object = { name: 'k' }) => {
    const res = await t.http().post(adminKeys(ref)).set(t.admin).send(body);
    if (res.status === 201) issued.push(res.body.data.key);
    return res;
  };
  const adminRotate = async (ref: string, keyId: string, body: object = {}) => {
    const res = await t
      .http()
      .post(adminKeys(ref, `/${keyId}/rotate`))
      .set(t.admin)
      .send(body);
    if (res.status === 201) issued.push(res.body.data.key);
    return res;
  };

  describe('instance create', () => {
    it('issues the first key, Default, with its plaintext once and no-store', async () => {
      const res = await t.http().post('/api/admin/instances').set(t.admin).send({ name: 'With key' }).expect(201);
      const { instance, key } = res.body.data;
      issued.push(key.key);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(key.key).toMatch(KEY_FORMAT);
      expect(key.key.startsWith(`trusset_${instance.instanceRef}_`)).toBe(true);
      expect(key).toMatchObject({ name: 'Default', status: 'ACTIVE', expiresAt: null, replacesKeyId: null });
      expect(key.key.startsWith(key.keyPrefix)).toBe(true);

      const listed = await t.http().get(adminKeys(instance.instanceRef)).set(t.admin).expect(200);
      expect(listed.body.data).toHaveLength(1);
      expect(Object.keys(listed.body.data[0]).sort()).toEqual(LIST_FIELDS);
      expect(JSON.stringify(listed.body)).not.toContain(key.key.slice(-60));
    });
  });

  describe('both doors', () => {
    it('creates, lists, gets through the self-service door, scoped to the instance', async () => {
      const inst = await fresh();
      const created = await t.http().post('/api/keys').set(asKey(inst.key)).send({ name: '  CI  ' }).expect(201);
      issued.push(created.body.data.key);
      expect(created.headers['cache-control']).toBe('no-store');
      expect(created.body.data).toMatchObject({ name: 'CI', status: 'ACTIVE' });
      const list = await t.http().get('/api/keys').set(asKey(inst.key)).expect(200);
      expect(list.body.data.map((k: { id: string }) => k.id)).toEqual([created.body.data.id, inst.keyId]);
      expect(list.body.pagination).toMatchObject({ total: 2, returned: 2 });
      const one = await t.http().get(`/api/keys/${inst.keyId}`).set(asKey(inst.key)).expect(200);
      expect(one.body.data).toMatchObject({ id: inst.keyId, name: 'Default' });
      await verify(created.body.data.key).expect(200);
    });

    it('refuses bad bodies with VALIDATION_ERROR', async () => {
      const inst = await fresh();
      for (const body of [
        {},
        { name: '' },
        { name: 'x'.repeat(101) },
        { name: 'a\nb' },
        { name: 'x', expiresAt: 'tomorrow' },
        { name: 'x', extra: 1 },
      ]) {
        const res = await adminCreate(inst.ref, body);
        expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
      }
      const past = await adminCreate(inst.ref, { name: 'x', expiresAt: '2020-01-01T00:00:00Z' });
      expect([past.status, past.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    });

    it('answers 404 for an unknown instance, and for a malformed or unknown key id', async () => {
      const inst = await fresh();
      await t.http().get(adminKeys('ZZZZZZZZ')).set(t.admin).expect(404);
      for (const id of ['not-a-uuid', '00000000-0000-4000-8000-000000000000']) {
        const res = await t
          .http()
          .get(adminKeys(inst.ref, `/${id}`))
          .set(t.admin)
          .expect(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
        await t.http().post(`/api/keys/${id}/revoke`).set(asKey(inst.key)).expect(404);
      }
    });
  });

  describe('tenancy', () => {
    it("answers 404 for another instance's key id on every route, and changes nothing", async () => {
      const a = await fresh();
      const b = await fresh();
      const routes: Array<[string, string, object?]> = [
        ['get', ''],
        ['post', '/rotate', {}],
        ['post', '/pause', { durationSeconds: 60 }],
        ['post', '/resume', {}],
        ['post', '/revoke', {}],
        ['delete', ''],
      ];
      for (const [method, suffix, body] of routes) {
        const self = await t.http()[method as 'post'](`/api/keys/${b.keyId}${suffix}`).set(asKey(a.key)).send(body);
        expect([method, suffix, self.status, self.body.error?.code]).toEqual([method, suffix, 404, 'NOT_FOUND']);
        const admin = await t
          .http()
          [method as 'post'](adminKeys(a.ref, `/${b.keyId}${suffix}`))
          .set(t.admin)
          .send(body);
        expect([method, suffix, admin.status]).toEqual([method, suffix, 404]);
      }
      const after = await t
        .http()
        .get(adminKeys(b.ref, `/${b.keyId}`))
        .set(t.admin)
        .expect(200);
      expect(after.body.data).toMatchObject({ status: 'ACTIVE', rotatedAt: null, revokedAt: null, pausedUntil: null });
      expect((await t.http().get(adminKeys(b.ref)).set(t.admin)).body.data).toHaveLength(1);
      await verify(b.key).expect(200);
    });
  });

  describe('rotation', () => {
    it('issues a successor with the same name; the old key stays valid during the overlap', async () => {
      const inst = await fresh();
      const res = await adminRotate(inst.ref, inst.keyId, { overlapSeconds: 3600 });
      expect(res.status).toBe(201);
      expect(res.headers['cache-control']).toBe('no-store');
      const next = res.body.data;
      expect(next).toMatchObject({ name: 'Default', status: 'ACTIVE', replacesKeyId: inst.keyId });
      expect(next.key).toMatch(KEY_FORMAT);
      const old = (
        await t
          .http()
          .get(adminKeys(inst.ref, `/${inst.keyId}`))
          .set(t.admin)
          .expect(200)
      ).body.data;
      expect(old).toMatchObject({ status: 'PENDING_ROTATION', replacedByKeyId: next.id });
      const overlap = (Date.parse(old.expiresAt) - Date.parse(old.rotatedAt)) / 1000;
      expect(overlap).toBeCloseTo(3600, 0);
      expect((await verify(inst.key).expect(200)).body.data.keyStatus).toBe('PENDING_ROTATION');
      await verify(next.key).expect(200);
    });

    it('uses the 7-day default overlap, and keeps an own expiry that comes sooner', async () => {
      const inst = await fresh();
      const old = await adminRotate(inst.ref, inst.keyId);
      const rotated = (
        await t
          .http()
          .get(adminKeys(inst.ref, `/${inst.keyId}`))
          .set(t.admin)
      ).body.data;
      expect((Date.parse(rotated.expiresAt) - Date.parse(rotated.rotatedAt)) / 1000).toBeCloseTo(604800, 0);

      const soon = new Date(Date.now() + 3600_000).toISOString();
      const short = (await adminCreate(inst.ref, { name: 'short', expiresAt: soon })).body.data;
      const successor = (await adminRotate(inst.ref, short.id, { overlapSeconds: 86400 })).body.data;
      const after = (
        await t
          .http()
          .get(adminKeys(inst.ref, `/${short.id}`))
          .set(t.admin)
      ).body.data;
      expect(after.expiresAt).toBe(soon);
      expect(successor.expiresAt).toBe(soon);
      expect(old.status).toBe(201);
    });

    it('ends the old key at once with overlapSeconds 0', async () => {
      const inst = await fresh();
      const next = (await adminRotate(inst.ref, inst.keyId, { overlapSeconds: 0 })).body.data;
      expect((await verify(inst.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
      const old = (
        await t
          .http()
          .get(adminKeys(inst.ref, `/${inst.keyId}`))
          .set(t.admin)
      ).body.data;
      expect(old.status).toBe('EXPIRED');
      await verify(next.key).expect(200);
    });

    it('honours the overlap boundary as the database clock sees it', async () => {
      const inst = await fresh();
      await adminRotate(inst.ref, inst.keyId, { overlapSeconds: 3600 });
      await t.editRows(`UPDATE instance_keys SET expires_at = now() + interval '1 second' WHERE id = $1`, [inst.keyId]);
      await verify(inst.key).expect(200);
      await t.editRows(`UPDATE instance_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [inst.keyId]);
      await verify(inst.key).expect(401);
      const listed = await t.http().get(adminKeys(inst.ref)).query({ status: 'EXPIRED' }).set(t.admin).expect(200);
      expect(listed.body.data.map((k: { id: string }) => k.id)).toEqual([inst.keyId]);
    });

    it('refuses to rotate a key that is not ACTIVE, or twice, with KEY_NOT_ACTIVE', async () => {
      const inst = await fresh();
      await adminRotate(inst.ref, inst.keyId);
      const again = await adminRotate(inst.ref, inst.keyId);
      expect([again.status, again.body.error.code]).toEqual([409, 'KEY_NOT_ACTIVE']);
      const paused = (await adminCreate(inst.ref)).body.data;
      await t
        .http()
        .post(adminKeys(inst.ref, `/${paused.id}/pause`))
        .set(t.admin)
        .send({ durationSeconds: 600 })
        .expect(200);
      expect((await adminRotate(inst.ref, paused.id)).status).toBe(409);
      const overlap = await t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
        .set(t.admin)
        .send({ overlapSeconds: 2592001 })
        .expect(400);
      expect(overlap.body.error.code).toBe('VALIDATION_ERROR');
    });

    it('refuses to create or rotate keys of an archived instance', async () => {
      const inst = await fresh();
      await t.http().post(`/api/admin/instances/${inst.ref}/archive`).set(t.admin).expect(200);
      expect((await adminCreate(inst.ref)).body.error.code).toBe('INSTANCE_ARCHIVED');
      expect((await adminRotate(inst.ref, inst.keyId)).body.error.code).toBe('INSTANCE_ARCHIVED');
      await verify(inst.key).expect(401);
      await t.http().post(`/api/admin/instances/${inst.ref}/restore`).set(t.admin).expect(200);
      await verify(inst.key).expect(200);
    });
  });

  describe('pause, resume, revoke, delete', () => {
    it('pauses until a time, and the key is valid again by itself when it has passed', async () => {
      const inst = await fresh();
      const until = new Date(Date.now() + 3600_000).toISOString();
      const paused = await t.http().post(`/api/keys/${inst.keyId}/pause`).set(asKey(inst.key)).send({ until }).expect(200);
      expect(paused.body.data).toMatchObject({ status: 'PAUSED', pausedUntil: until });
      expect((await verify(inst.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
      await t.editRows(`UPDATE instance_keys SET paused_until = now() - interval '1 second' WHERE id = $1`, [inst.keyId]);
      await verify(inst.key).expect(200);
      const got = await t.http().get(`/api/keys/${inst.keyId}`).set(asKey(inst.key)).expect(200);
      expect(got.body.data).toMatchObject({ status: 'ACTIVE', pausedUntil: null });
    });

    it('pauses for a duration and resumes early', async () => {
      const inst = await fresh();
      const other = (await adminCreate(inst.ref)).body.data;
      await t
        .http()
        .post(adminKeys(inst.ref, `/${other.id}/pause`))
        .set(t.admin)
        .send({ durationSeconds: 600 })
        .expect(200);
      await verify(other.key).expect(401);
      const resumed = await t
        .http()
        .post(adminKeys(inst.ref, `/${other.id}/resume`))
        .set(t.admin)
        .expect(200);
      expect(resumed.body.data.status).toBe('ACTIVE');
      await verify(other.key).expect(200);
      const again = await t
        .http()
        .post(adminKeys(inst.ref, `/${other.id}/resume`))
        .set(t.admin)
        .expect(409);
      expect(again.body.error.code).toBe('KEY_NOT_ACTIVE');
    });

    it('refuses a pause in the past, without an end, or with both ends', async () => {
      const inst = await fresh();
      for (const body of [
        { until: '2020-01-01T00:00:00Z' },
        {},
        { until: new Date(Date.now() + 60_000).toISOString(), durationSeconds: 60 },
        { durationSeconds: 0 },
      ]) {
        const res = await t
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/pause`))
          .set(t.admin)
          .send(body);
        expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
      }
    });

    it('revokes at once and for good', async () => {
      const inst = await fresh();
      const other = (await adminCreate(inst.ref)).body.data;
      const revoked = await t.http().post(`/api/keys/${other.id}/revoke`).set(asKey(inst.key)).expect(200);
      expect(revoked.body.data).toMatchObject({ status: 'REVOKED', revokedAt: expect.any(String) });
      expect((await verify(other.key).expect(401)).body.error.code).toBe('AUTH_FAILED');
      const again = await t.http().post(`/api/keys/${other.id}/revoke`).set(asKey(inst.key)).expect(409);
      expect(again.body.error.code).toBe('ALREADY_REVOKED');
      for (const action of ['rotate', 'resume']) {
        expect(
          (
            await t
              .http()
              .post(adminKeys(inst.ref, `/${other.id}/${action}`))
              .set(t.admin)
              .send({})
          ).body.error.code,
        ).toBe('KEY_NOT_ACTIVE');
      }
      const pause = await t
        .http()
        .post(adminKeys(inst.ref, `/${other.id}/pause`))
        .set(t.admin)
        .send({ durationSeconds: 5 });
      expect(pause.body.error.code).toBe('KEY_NOT_ACTIVE');
    });

    it('ends an overlap early by revoking the PENDING_ROTATION key', async () => {
      const inst = await fresh();
      await adminRotate(inst.ref, inst.keyId);
      await t
        .http()
        .post(adminKeys(inst.ref, `/${inst.keyId}/revoke`))
        .set(t.admin)
        .expect(200);
      await verify(inst.key).expect(401);
    });

    it('deletes the record; the key fails and its audit events stay', async () => {
      const inst = await fresh();
      const other = (await adminCreate(inst.ref)).body.data;
      const res = await t
        .http()
        .delete(adminKeys(inst.ref, `/${other.id}`))
        .set(t.admin)
        .expect(200);
      expect(res.body.data).toEqual({ id: other.id, deleted: true });
      await verify(other.key).expect(401);
      await t
        .http()
        .get(adminKeys(inst.ref, `/${other.id}`))
        .set(t.admin)
        .expect(404);
      await t
        .http()
        .delete(adminKeys(inst.ref, `/${other.id}`))
        .set(t.admin)
        .expect(404);
      const events = (await t.http().get(`/api/admin/instances/${inst.ref}/events`).set(t.admin).expect(200)).body.data;
      expect(events.filter((e: { target?: { id: string } }) => e.target?.id === other.id).map((e: { action: string }) => e.action)).toEqual(
        ['key.deleted', 'key.created'],
      );
    });
  });

  describe('cap', () => {
    it('allows 10 ACTIVE+PAUSED keys; PENDING_ROTATION and revoked keys do not count', async () => {
      const inst = await fresh();
      const keys = [inst.keyId];
      for (let i = 0; i < 9; i++) keys.push((await adminCreate(inst.ref, { name: `k${i}` }).then((r) => r.body.data)).id);
      await t
        .http()
        .post(adminKeys(inst.ref, `/${keys[1]}/pause`))
        .set(t.admin)
        .send({ durationSeconds: 600 })
        .expect(200);
      const over = await adminCreate(inst.ref);
      expect([over.status, over.body.error.code]).toEqual([409, 'KEY_LIMIT_REACHED']);
      expect((await adminRotate(inst.ref, keys[2])).status).toBe(201);
      expect((await adminCreate(inst.ref)).status).toBe(409);
      await t
        .http()
        .post(adminKeys(inst.ref, `/${keys[3]}/revoke`))
        .set(t.admin)
        .expect(200);
      expect((await adminCreate(inst.ref)).status).toBe(201);
      await t.editRows(`UPDATE instance_keys SET expires_at = now() - interval '1 second' WHERE id = $1`, [keys[4]]);
      expect((await adminCreate(inst.ref)).status).toBe(201);
      expect((await adminCreate(inst.ref)).status).toBe(409);
    });
  });

  describe('audit trail', () => {
    it('records every change with actor, ip and request id, newest first, for admin and the instance', async () => {
      const inst = await fresh();
      const created = await t
        .http()
        .post('/api/keys')
        .set(asKey(inst.key))
        .set('X-Request-Id', 'audit-req-0001')
        .send({ name: 'audited' })
        .expect(201);
      issued.push(created.body.data.key);
      await adminRotate(inst.ref, created.body.data.id);
      const admin = await t.http().get(`/api/admin/instances/${inst.ref}/events`).set(t.admin).expect(200);
      expect(admin.body.data.map((e: { action: string }) => e.action)).toEqual([
        'key.rotated',
        'key.created',
        'key.created',
        'key.created',
        'instance.created',
      ]);
      const selfCreate = admin.body.data[2];
      expect(selfCreate).toMatchObject({
        actor: inst.keyId,
        actorType: 'instance_key',
        requestId: 'audit-req-0001',
        ip: expect.any(String),
      });
      expect(admin.body.data[0]).toMatchObject({ actor: 'admin', target: { type: 'key', id: created.body.data.id } });
      const own = await t.http().get('/api/keys/events').set(asKey(inst.key)).query({ limit: 2 }).expect(200);
      expect(own.body.data.map((e: { id: string }) => e.id)).toEqual(admin.body.data.slice(0, 2).map((e: { id: string }) => e.id));
      expect(own.body.pagination).toMatchObject({ total: 5, returned: 2, hasMore: true });
      await t.http().get('/api/admin/instances/ZZZZZZZZ/events').set(t.admin).expect(404);
    });
  });

  describe('secret hygiene', () => {
    it('never logs an issued key, and no table holds one in plaintext', async () => {
      expect(issued.length).toBeGreaterThan(20);
      const logs = capturedLogLines.join('\n');
      const secrets = issued.map((k) => k.slice(-64));
      expect(secrets.filter((s) => logs.includes(s))).toEqual([]);
      const tables: Array<{ name: string }> = await t.dataSource.query(
        `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((x) => x.name)).toEqual(expect.arrayContaining(['instance_keys', 'audit_events', 'instances']));
      for (const { name } of tables) {
        const [{ dump }] = await t.dataSource.query(`SELECT coalesce(string_agg(row_to_json(x)::text, ' '), '') AS dump FROM "${name}" x`);
        expect({ name, leaked: secrets.filter((s) => dump.includes(s)) }).toEqual({ name, leaked: [] });
      }
    });
  });
});
