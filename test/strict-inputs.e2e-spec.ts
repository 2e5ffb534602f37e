import { randomUUID } from 'node:crypto';
import { capturedLogLines } from './support/log-capture';
import { adminKeys, createInstance, TestInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';

/*
 * Inputs a client generator or a careless caller sends: unknown query parameters, paging a route
 * does not take, wrong methods, and the messages a validation failure reads as. Also the two log
 * lines that misled operators.
 */
describe('Strict inputs and readable refusals', () => {
  let t: TestApp;
  let inst: TestInstance;
  let mica: { apiKey: string; token: string };

  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
    inst = await createInstance(t, ['trading']);
    const reg = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Strict inputs', email: `strict-${randomUUID()}@example.com` })
        .expect(201)
    ).body.data;
    mica = { apiKey: reg.apiKey, token: reg.managementToken };
  });
  afterAll(() => t.close());

  const routes = (): Array<[string, Record<string, string>]> => [
    ['/api/mica/v1/countries', { 'X-API-Key': mica.apiKey }],
    ['/api/mica/v1/statistics', { 'X-API-Key': mica.apiKey }],
    ['/api/mica/v1/license-types', { 'X-API-Key': mica.apiKey }],
    ['/api/mica/v1/health', { 'X-API-Key': mica.apiKey }],
    ['/api/mica/v1/issuers/casp_000000000000000000000000', { 'X-API-Key': mica.apiKey }],
    [`/api/admin/instances/${inst.ref}`, t.admin],
    [adminKeys(inst.ref, `/${inst.keyId}`), t.admin],
    ['/api/mica/developer/keys', { Authorization: `Bearer ${mica.token}` }],
    ['/api/keys', { 'X-API-Key': inst.key }],
    ['/api/auth/verify', { 'X-API-Key': inst.key }],
    ['/api/health/live', {}],
    ['/api/health/ready', {}],
    ['/api/metrics', {}],
  ];

  it('refuses an unknown query parameter on every kind of route with 400 and details naming it', async () => {
    for (const [path, headers] of routes()) {
      const res = await t.http().get(`${path}?foo=1`).set(headers);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details).toEqual({ foo: [expect.stringContaining('foo')] });
    }
  });

  it('refuses paging on a list that does not page (countries?limit=5 is 400, not all 27)', async () => {
    const res = await t.http().get('/api/mica/v1/countries?limit=5').set('X-API-Key', mica.apiKey).expect(400);
    expect(Object.keys(res.body.error.details)).toEqual(['limit']);
  });

  it('still answers 401 before looking at the query of a protected route', async () => {
    const res = await t.http().get('/api/mica/v1/countries?foo=1').expect(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it("names the route's scheme in WWW-Authenticate on every kind of 401", async () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['/api/keys', {}, /^ApiKey realm="trusset", header="X-API-Key"$/],
      ['/api/auth/verify', { 'X-API-Key': 'trusset_bad' }, /^ApiKey /],
      ['/api/mica/v1/countries', {}, /^ApiKey /],
      ['/api/mica/v1/health', { 'X-API-Key': 'trusset_mica_bad' }, /^ApiKey /],
      ['/api/admin/instances', {}, /^Bearer realm="trusset"$/],
      [
        '/api/admin/instances',
        { Authorization: 'Bearer wrong-token-wrong-token-wrong-token' },
        /^Bearer realm="trusset", error="invalid_token"$/,
      ],
      ['/api/mica/developer/keys', {}, /^Bearer /],
    ];
    for (const [path, headers, challenge] of cases) {
      const res = await t.http().get(path).set(headers).expect(401);
      expect({ path, challenge: res.headers['www-authenticate'] }).toEqual({ path, challenge: expect.stringMatching(challenge) });
    }
  });

  it('answers a wrong method on an existing path with 405 and Allow', async () => {
    const del = await t.http().delete('/api/admin/instances').set(t.admin).expect(405);
    expect(del.body.error.code).toBe('METHOD_NOT_ALLOWED');
    expect(del.headers.allow).toBe('GET, HEAD, POST');
    const put = await t.http().put(`/api/keys/${inst.keyId}`).set('X-API-Key', inst.key).expect(405);
    expect(put.headers.allow).toBe('DELETE, GET, HEAD, PATCH');
    const post = await t.http().post('/api/auth/verify').expect(405);
    expect(post.headers.allow).toBe('GET, HEAD');
    await t.http().get('/api/no-such-route').expect(404);
  });

  it('says a missing field is required, once', async () => {
    const res = await t.http().post('/api/admin/instances').set(t.admin).send({}).expect(400);
    expect(res.body.error.details).toEqual({ name: ['name is required'] });
  });

  it('gives one type message for a number sent as a string', async () => {
    const res = await t
      .http()
      .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
      .set(t.admin)
      .send({ overlapSeconds: '60' })
      .expect(400);
    expect(res.body.error.details).toEqual({ overlapSeconds: ['overlapSeconds must be an integer number'] });
  });

  it('says a repeated service is repeated, in a sentence', async () => {
    const res = await t
      .http()
      .post('/api/admin/instances')
      .set(t.admin)
      .send({ name: 'Dup', services: ['trading', 'trading'] })
      .expect(400);
    expect(res.body.error.details).toEqual({ services: ['services must not contain the same value twice'] });
  });

  it('logs the full path of the key-check routes answered ahead of the router', async () => {
    const requestId = `log-path-${randomUUID()}`;
    await t.http().get('/api/auth/verify').set('X-API-Key', inst.key).set('X-Request-Id', requestId).expect(200);
    const line = capturedLogLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'request' && l.requestId === requestId);
    expect(line).toMatchObject({ path: '/api/auth/verify', route: '/api/auth/verify' });
  });

  it('does not warn (nor log SQL at warn) for an expected 409 EMAIL_EXISTS', async () => {
    const email = `dup-${randomUUID()}@example.com`;
    await t.http().post('/api/mica/developer/register').send({ name: 'First', email }).expect(201);
    const before = capturedLogLines.length;
    const res = await t.http().post('/api/mica/developer/register').send({ name: 'Second', email }).expect(409);
    expect(res.body.error.code).toBe('EMAIL_EXISTS');
    const warnings = capturedLogLines
      .slice(before)
      .map((l) => JSON.parse(l))
      .filter((l) => l.level === 'warn' || l.level === 'error');
    expect(warnings).toEqual([]);
  });
});
