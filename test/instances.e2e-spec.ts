import { startTestApp, TestApp } from './support/test-app';

describe('instances (admin API)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const create = (body: object) => t.http().post('/api/admin/instances').set(t.admin).send(body);

  it('creates an instance with a random 8-character ref', async () => {
    const res = await create({ name: '  Acme prod  ', services: ['trading', 'customers'] }).expect(201);
    const inst = res.body.data.instance;
    expect(inst.instanceRef).toMatch(/^[A-Za-z0-9]{8}$/);
    expect(inst).toMatchObject({ name: 'Acme prod', services: ['customers', 'trading'], status: 'ACTIVE', archivedAt: null });
  });

  it('refuses an unknown service, duplicate services and an over-long name', async () => {
    for (const body of [
      { name: 'x', services: ['banking'] },
      { name: 'x', services: ['trading', 'trading'] },
      { name: 'x'.repeat(101) },
      { name: 'a\nb' },
      {},
    ]) {
      const res = await create(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    }
  });

  it('gets, renames and replaces services', async () => {
    const ref = (await create({ name: 'Patch me' }).expect(201)).body.data.instance.instanceRef;
    const got = await t.http().get(`/api/admin/instances/${ref}`).set(t.admin).expect(200);
    expect(got.body.data.services).toEqual([]);
    const patched = await t
      .http()
      .patch(`/api/admin/instances/${ref}`)
      .set(t.admin)
      .send({ name: 'Patched', services: ['lending'] })
      .expect(200);
    expect(patched.body.data).toMatchObject({ name: 'Patched', services: ['lending'] });
    const empty = await t.http().patch(`/api/admin/instances/${ref}`).set(t.admin).send({}).expect(400);
    expect(empty.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('archives and restores, idempotently', async () => {
    const ref = (await create({ name: 'Archive me' }).expect(201)).body.data.instance.instanceRef;
    const archived = await t.http().post(`/api/admin/instances/${ref}/archive`).set(t.admin).expect(200);
    expect(archived.body.data.status).toBe('ARCHIVED');
    expect(archived.body.data.archivedAt).toEqual(expect.any(String));
    await t.http().post(`/api/admin/instances/${ref}/archive`).set(t.admin).expect(200);
    const restored = await t.http().post(`/api/admin/instances/${ref}/restore`).set(t.admin).expect(200);
    expect(restored.body.data).toMatchObject({ status: 'ACTIVE', archivedAt: null });
  });

  it('answers 404 for an unknown or malformed ref', async () => {
    for (const ref of ['ZZZZZZZZ', 'short', 'way-too-long-ref', 'abc%20def']) {
      const res = await t.http().get(`/api/admin/instances/${ref}`).set(t.admin).expect(404);
      expect(res.body.error.code).toBe('NOT_FOUND');
    }
    await t.http().post('/api/admin/instances/ZZZZZZZZ/archive').set(t.admin).expect(404);
    await t.http().patch('/api/admin/instances/ZZZZZZZZ').set(t.admin).send({ name: 'x' }).expect(404);
  });

  it('lists newest first with status filter, name search and pagination', async () => {
    const tag = `list${Date.now()}`;
    const refs: string[] = [];
    for (let i = 0; i < 3; i++) refs.push((await create({ name: `${tag} %_ ${i}` }).expect(201)).body.data.instance.instanceRef);
    await t.http().post(`/api/admin/instances/${refs[0]}/archive`).set(t.admin).expect(200);

    const all = await t.http().get('/api/admin/instances').query({ search: tag.toUpperCase() }).set(t.admin).expect(200);
    expect(all.body.data.map((i: { instanceRef: string }) => i.instanceRef)).toEqual([...refs].reverse());
    expect(all.body.pagination).toEqual({ total: 3, returned: 3, limit: 100, offset: 0, hasMore: false });

    const page = await t.http().get('/api/admin/instances').query({ search: tag, limit: 1, offset: 1 }).set(t.admin).expect(200);
    expect(page.body.data.map((i: { instanceRef: string }) => i.instanceRef)).toEqual([refs[1]]);
    expect(page.body.pagination).toMatchObject({ total: 3, returned: 1, hasMore: true });

    const archived = await t.http().get('/api/admin/instances').query({ search: tag, status: 'ARCHIVED' }).set(t.admin).expect(200);
    expect(archived.body.data.map((i: { instanceRef: string }) => i.instanceRef)).toEqual([refs[0]]);

    const literal = await t.http().get('/api/admin/instances').query({ search: '%_' }).set(t.admin).expect(200);
    expect(literal.body.data.every((i: { name: string }) => i.name.includes('%_'))).toBe(true);
  });

  it.each([
    { limit: '0' },
    { limit: '501' },
    { limit: 'ten' },
    { offset: '-1' },
    { status: 'DELETED' },
    { search: 'x'.repeat(101) },
    { unknown: '1' },
  ])('refuses list query %p', async (query) => {
    const res = await t.http().get('/api/admin/instances').query(query).set(t.admin).expect(400);
    expect(res.body.error.code).toBe('VALIDATION_ERROR');
  });

  it('records instance changes in the audit trail', async () => {
    const ref = (await create({ name: 'Audited' }).expect(201)).body.data.instance.instanceRef;
    await t
      .http()
      .patch(`/api/admin/instances/${ref}`)
      .set(t.admin)
      .send({ services: ['custody'] })
      .expect(200);
    const rows = await t.dataSource.query(
      `SELECT e.action, e.actor_type FROM audit_events e JOIN instances i ON i.id = e.instance_id WHERE i.ref = $1 ORDER BY e.at`,
      [ref],
    );
    expect(rows).toEqual([
      { action: 'instance.created', actor_type: 'admin' },
      { action: 'key.created', actor_type: 'admin' },
      { action: 'instance.updated', actor_type: 'admin' },
    ]);
  });
});
