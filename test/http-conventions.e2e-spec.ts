import { startTestApp, TestApp } from './support/test-app';

function expectEnvelopeError(
  body: { success: boolean; error: { code: string; message: unknown }; metadata: { requestId: unknown; timestamp: string } },
  code: string,
) {
  expect(body.success).toBe(false);
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.metadata.requestId).toEqual(expect.any(String));
  expect(new Date(body.metadata.timestamp).toISOString()).toBe(body.metadata.timestamp);
}

describe('HTTP conventions', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  it('answers an unknown route with 404 NOT_FOUND in the envelope', async () => {
    const res = await t.http().get('/api/nope').expect(404);
    expectEnvelopeError(res.body, 'NOT_FOUND');
    const outside = await t.http().get('/').expect(404);
    expectEnvelopeError(outside.body, 'NOT_FOUND');
  });

  it('wraps success in the envelope with a request id header', async () => {
    const res = await t.http().get('/api/health/live').expect(200);
    expect(res.body).toEqual({
      success: true,
      data: { status: 'ok' },
      metadata: { requestId: expect.any(String), timestamp: expect.any(String) },
    });
    expect(res.headers['x-request-id']).toBe(res.body.metadata.requestId);
  });

  it('echoes a sane X-Request-Id and replaces an insane one', async () => {
    const sane = await t.http().get('/api/health/live').set('X-Request-Id', 'req-12345678').expect(200);
    expect(sane.headers['x-request-id']).toBe('req-12345678');
    const insane = await t.http().get('/api/health/live').set('X-Request-Id', 'bad id with spaces').expect(200);
    expect(insane.headers['x-request-id']).not.toContain('bad');
  });

  it('rejects malformed JSON with 400 VALIDATION_ERROR', async () => {
    const res = await t
      .http()
      .post('/api/admin/instances')
      .set(t.admin)
      .set('Content-Type', 'application/json')
      .send('{"name": ')
      .expect(400);
    expectEnvelopeError(res.body, 'VALIDATION_ERROR');
  });

  it('rejects a non-JSON body with 415', async () => {
    const res = await t.http().post('/api/admin/instances').set(t.admin).set('Content-Type', 'text/plain').send('name=x').expect(415);
    expectEnvelopeError(res.body, 'UNSUPPORTED_MEDIA_TYPE');
    const form = await t.http().post('/api/admin/instances').set(t.admin).type('form').send({ name: 'x' }).expect(415);
    expectEnvelopeError(form.body, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('rejects a body over the limit with 413', async () => {
    const res = await t
      .http()
      .post('/api/admin/instances')
      .set(t.admin)
      .send({ name: 'x'.repeat(t.config.http.bodyLimitBytes + 10) })
      .expect(413);
    expectEnvelopeError(res.body, 'PAYLOAD_TOO_LARGE');
  });

  it('rejects unknown and invalid fields with per-field details', async () => {
    const res = await t
      .http()
      .post('/api/admin/instances')
      .set(t.admin)
      .send({ name: '', services: ['nope'], extra: 1 })
      .expect(400);
    expectEnvelopeError(res.body, 'VALIDATION_ERROR');
    expect(Object.keys(res.body.error.details).sort()).toEqual(['extra', 'name', 'services']);
  });

  it('refuses fields sent to an operation that takes no body, and accepts an empty one', async () => {
    const created = await t.http().post('/api/admin/instances').set(t.admin).send({ name: 'no body' }).expect(201);
    const ref = created.body.data.instance.instanceRef;
    const res = await t.http().post(`/api/admin/instances/${ref}/archive`).set(t.admin).send({ force: true }).expect(400);
    expectEnvelopeError(res.body, 'VALIDATION_ERROR');
    expect(res.body.error.details).toEqual({ force: ['force is not allowed'] });
    const instance = await t.http().get(`/api/admin/instances/${ref}`).set(t.admin).expect(200);
    expect(instance.body.data.status).toBe('ACTIVE');
    await t.http().post(`/api/admin/instances/${ref}/archive`).set(t.admin).send({}).expect(200);
    await t.http().post(`/api/admin/instances/${ref}/restore`).set(t.admin).expect(200);
  });

  it('rejects a JSON body that is not an object', async () => {
    const res = await t.http().post('/api/admin/instances').set(t.admin).set('Content-Type', 'application/json').send('[1,2]').expect(400);
    expectEnvelopeError(res.body, 'VALIDATION_ERROR');
  });

  it('answers oversized headers with 431 in the envelope', async () => {
    const res = await t.http().get('/api/health/live').set('X-Big', 'a'.repeat(20_000));
    expect(res.status).toBe(431);
    expectEnvelopeError(res.body, 'REQUEST_HEADER_FIELDS_TOO_LARGE');
  });

  it('sends security headers and no X-Powered-By', async () => {
    const res = await t.http().get('/api/health/live');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('reports readiness when the database answers', async () => {
    const res = await t.http().get('/api/health/ready').expect(200);
    expect(res.body.data.status).toBe('ok');
  });

  it('exposes Prometheus metrics by route and status', async () => {
    await t.http().get('/api/health/live');
    const res = await t.http().get('/api/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toMatch(/http_requests_total\{method="GET",route="\/api\/health\/live",status="200"\} \d+/);
    expect(res.text).toContain('http_request_duration_seconds_bucket');
  });

  it('serves the OpenAPI document with every route', async () => {
    const res = await t.http().get('/api/docs-json').expect(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/admin/instances', '/api/admin/instances/{instanceRef}', '/api/health/ready']),
    );
    await t.http().get('/api/docs').expect(200);
  });
});
