import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';

/** A key.revoked audit row as the suite reads it. */
type RevokedEvent = { target_id: string; details: { breakGlass?: boolean; reason?: string; from?: string } };

describe('break glass: POST /api/admin/instances/{ref}/keys/revoke-all (SPEC §15)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
  });
  afterAll(() => t?.close());

  const revokeAll = (ref: string, body: object) => t.http().post(adminKeys(ref, '/revoke-all')).set(t.admin).send(body);
  const verify = (key: string) => t.http().get('/api/auth/verify').set('X-API-Key', key);
  const newKey = async (inst: TestInstance, name = 'k') =>
    (await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name }).expect(201)).body.data;
  const statuses = async (inst: TestInstance) =>
    Object.fromEntries(
      (await t.http().get(adminKeys(inst.ref)).set(t.admin).expect(200)).body.data.map((k: { id: string; status: string }) => [
        k.id,
        k.status,
      ]),
    );
  const revokedEvents = (inst: TestInstance): Promise<RevokedEvent[]> =>
    t.dataSource.query(`SELECT target_id, details FROM audit_events WHERE instance_id = $1 AND action = 'key.revoked' ORDER BY at`, [
      inst.id,
    ]);

  it('revokes every ACTIVE, PAUSED and PENDING_ROTATION key in one call, with one audit event per key carrying the reason', async () => {
    const inst = await createInstance(t);
    const paused = await newKey(inst, 'paused');
    await t
      .http()
      .post(adminKeys(inst.ref, `/${paused.id}/pause`))
      .set(t.admin)
      .send({ durationSeconds: 3600 })
      .expect(200);
    const rotated = await newKey(inst, 'rotated');
    const successor = (
      await t
        .http()
        .post(adminKeys(inst.ref, `/${rotated.id}/rotate`))
        .set(t.admin)
        .send({})
        .expect(201)
    ).body.data;
    const expired = await newKey(inst, 'expired');
    await t.editRows(`UPDATE instance_keys SET expires_at = now() - interval '1 hour' WHERE id = $1`, [expired.id]);
    const revokedBefore = await newKey(inst, 'revoked before');
    await t
      .http()
      .post(adminKeys(inst.ref, `/${revokedBefore.id}/revoke`))
      .set(t.admin)
      .expect(200);

    const res = await revokeAll(inst.ref, { reason: 'Key material in a public CI log' }).expect(200);
    expect(res.body).toMatchObject({ success: true, data: { revoked: 4 } });
    expect(await statuses(inst)).toEqual({
      [inst.keyId]: 'REVOKED',
      [paused.id]: 'REVOKED',
      [rotated.id]: 'REVOKED',
      [successor.id]: 'REVOKED',
      [expired.id]: 'EXPIRED',
      [revokedBefore.id]: 'REVOKED',
    });
    for (const key of [inst.key, paused.key, rotated.key, successor.key]) await verify(key).expect(401);
    const events = await revokedEvents(inst);
    const breakGlass = events.filter((e) => e.details.breakGlass === true);
    expect(breakGlass.map((e) => e.target_id).sort()).toEqual([inst.keyId, paused.id, rotated.id, successor.id].sort());
    expect(breakGlass.map((e) => e.details.reason)).toEqual(Array(4).fill('Key material in a public CI log'));
    expect(Object.fromEntries(breakGlass.map((e) => [e.target_id, e.details.from]))).toEqual({
      [inst.keyId]: 'ACTIVE',
      [paused.id]: 'PAUSED',
      [rotated.id]: 'PENDING_ROTATION',
      [successor.id]: 'ACTIVE',
    });
  });

  it('keeps the keys named in exceptKeyIds, and a second call revokes nothing and adds no event', async () => {
    const inst = await createInstance(t);
    const keep = await newKey(inst, 'keep');
    await newKey(inst, 'go');
    expect((await revokeAll(inst.ref, { reason: 'rotate everything', exceptKeyIds: [keep.id] }).expect(200)).body.data).toEqual({
      revoked: 2,
    });
    await verify(keep.key).expect(200);
    await verify(inst.key).expect(401);
    const count = (await revokedEvents(inst)).length;
    expect((await revokeAll(inst.ref, { reason: 'again', exceptKeyIds: [keep.id] }).expect(200)).body.data).toEqual({ revoked: 0 });
    expect((await revokedEvents(inst)).length).toBe(count);
  });

  it('refuses an exceptKeyIds entry that is not a key of this instance with 400 and revokes nothing', async () => {
    const inst = await createInstance(t);
    const other = await createInstance(t);
    const res = await revokeAll(inst.ref, { reason: 'typo guard', exceptKeyIds: [other.keyId] }).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
    expect(Object.keys(res.body.error.details)).toEqual(['exceptKeyIds']);
    await verify(inst.key).expect(200);
    await verify(other.key).expect(200);
  });

  it.each([
    ['no reason', {}],
    ['an empty reason', { reason: '   ' }],
    ['a reason with a line break', { reason: 'a\nb' }],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }],
    ['exceptKeyIds that are not uuids', { reason: 'r', exceptKeyIds: ['nope'] }],
    ['an unknown field', { reason: 'r', force: true }],
  ])('refuses %s with 400 and revokes nothing', async (_, body) => {
    const inst = await createInstance(t);
    expect((await revokeAll(inst.ref, body).expect(400)).body.error.code).toBe('VALIDATION_ERROR');
    await verify(inst.key).expect(200);
  });

  it('answers 404 for an unknown instance and 401 without the admin token', async () => {
    await revokeAll('Zz9Zz9Zz', { reason: 'r' }).expect(404);
    const inst = await createInstance(t);
    await t.http().post(adminKeys(inst.ref, '/revoke-all')).send({ reason: 'r' }).expect(401);
    await t
      .http()
      .post(adminKeys(inst.ref, '/revoke-all'))
      .set('Authorization', 'Bearer not-the-admin-token-0123456789abcdef')
      .send({ reason: 'r' })
      .expect(401);
    await verify(inst.key).expect(200);
  });

  it('has no self-service door: POST /api/keys/revoke-all with the instance key is 405 (only the key routes live there) and changes nothing', async () => {
    const inst = await createInstance(t);
    const res = await t.http().post('/api/keys/revoke-all').set('X-API-Key', inst.key).send({ reason: 'r' }).expect(405);
    expect(res.headers.allow.split(', ')).not.toContain('POST');
    await verify(inst.key).expect(200);
  });

  it('revokes each key exactly once under 8 concurrent revoke-alls, in 5 trials', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const inst = await createInstance(t);
      for (let i = 0; i < 4; i++) await newKey(inst, `k${i}`);
      const answers = await Promise.all(Array.from({ length: 8 }, () => revokeAll(inst.ref, { reason: `trial ${trial}` })));
      expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
      expect(answers.reduce((n, a) => n + a.body.data.revoked, 0)).toBe(5);
      expect((await revokedEvents(inst)).length).toBe(5);
    }
  });
});
