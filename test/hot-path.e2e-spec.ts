import { randomBytes } from 'node:crypto';
import type { Response } from 'supertest';
import { capturedLogLines } from './support/log-capture';
import { createInstance } from './support/instance-fixtures';
import { startTestApp, TestApp, LIMITS_OUT_OF_REACH } from './support/test-app';

/**
 * The verify route's raw lane (src/hot-path: answered on node:http's request event) against the
 * Express fallback that answers every shape the lane leaves alone. `tr%61ding` is `trading` once
 * Express decodes it, and a shape the lane does not parse itself, so it takes the fallback.
 */
describe('GET /api/auth/verify on the raw lane', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, RATE_LIMIT_PER_KEY_PER_MINUTE: '3' });
  });
  afterAll(() => t?.close());

  const lane = (key: string | undefined, query = '?service=trading', method: 'get' | 'head' = 'get') => {
    const req = t.http()[method](`/api/auth/verify${query}`);
    return key === undefined ? req : req.set('X-API-Key', key);
  };
  const fallback = (key: string | undefined, query = '?service=tr%61ding', method: 'get' | 'head' = 'get') => lane(key, query, method);

  /** Everything of an answer that does not change per request (ids, clocks). */
  function shape(res: Response) {
    const headers = { ...res.headers } as Record<string, string>;
    const requestId = headers['x-request-id'];
    const error = headers['x-trusset-error'];
    for (const name of [
      'date',
      'x-request-id',
      'x-trusset-error',
      'content-length',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
      'retry-after',
    ])
      delete headers[name];
    const body = res.body && Object.keys(res.body).length ? { ...res.body, metadata: Object.keys(res.body.metadata ?? {}) } : res.body;
    return {
      status: res.status,
      headers,
      body,
      requestIdIsSet: /^[A-Za-z0-9._:-]{8,128}$/.test(requestId ?? ''),
      hasErrorHeader: error !== undefined,
    };
  }

  it('answers every decision exactly as the Express fallback does: status, headers, envelope', async () => {
    const inst = await createInstance(t, ['trading']);
    const other = await createInstance(t, ['lending']);
    const cases: Array<[string, string | undefined]> = [
      ['valid key', inst.key],
      ['no key', undefined],
      ['empty key', ''],
      ['malformed key', 'trusset_short'],
      ['unknown key', `trusset_${inst.ref}_${randomBytes(32).toString('hex')}`],
      ['service not enabled', other.key],
    ];
    for (const [what, key] of cases) {
      const raw = shape(await lane(key));
      const express = shape(await fallback(key));
      expect({ what, ...raw }).toEqual({ what, ...express });
      expect(raw.requestIdIsSet).toBe(true);
    }
  });

  it('answers 429 with Retry-After and the limit headers, as the fallback does', async () => {
    const inst = await createInstance(t, ['trading']);
    for (let i = 0; i < 3; i++) await lane(inst.key).expect(200);
    const raw = await lane(inst.key).expect(429);
    const express = await fallback(inst.key).expect(429);
    for (const res of [raw, express]) {
      expect(res.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      expect(res.headers['x-ratelimit-remaining']).toBe('0');
    }
    expect(shape(raw)).toEqual(shape(express));
  });

  it('puts the envelope of a refusal in X-Trusset-Error (for gateways), printable ASCII, and nothing of it on a pass', async () => {
    const inst = await createInstance(t, ['trading']);
    const ok = await lane(inst.key).expect(200);
    expect(ok.headers['x-trusset-error']).toBeUndefined();
    for (const key of [undefined, 'trusset_short']) {
      const refused = await lane(key).expect(401);
      expect(JSON.parse(refused.headers['x-trusset-error'])).toEqual(refused.body);
    }
    // A parameter name of the client's choosing, with a non-ASCII character, reaches the details.
    const odd = await t.http().get('/api/auth/verify?service=trading&%C3%A9t%C3%A9=1').set('X-API-Key', inst.key).expect(400);
    expect(odd.headers['x-trusset-error']).toMatch(/^[\x20-\x7e]+$/);
    expect(JSON.parse(odd.headers['x-trusset-error'])).toEqual(odd.body);
    expect(odd.body.error.details).toEqual({ été: ['été is not a query parameter of this operation'] });
  });

  it('refuses an X-Trusset-* header from the client with 400 after the key check, on both lanes', async () => {
    const inst = await createInstance(t, ['trading']);
    for (const send of [lane, fallback]) {
      const res = await send(inst.key).set('X-Trusset-Instance-Ref', 'Evil0000').expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
      expect(res.body.error.details).toEqual({
        'X-Trusset-Instance-Ref': ['is set by the gateway from the key check; a client may not send it'],
      });
      expect(res.headers['x-trusset-instance-ref']).toBeUndefined();
      // An invalid key is still 401 first, whatever else the request carries.
      await send('trusset_short').set('X-Trusset-Key-Id', 'x').expect(401);
    }
  });

  it('answers HEAD like GET without a body (the nginx recipe asks with HEAD to keep its connections)', async () => {
    const inst = await createInstance(t, ['trading']);
    const ok = await lane(inst.key, '?service=trading', 'head').expect(200);
    expect(ok.headers['x-trusset-instance-ref']).toBe(inst.ref);
    expect(ok.text ?? '').toBe('');
    const refused = await lane('trusset_short', '?service=trading', 'head').expect(401);
    expect(JSON.parse(refused.headers['x-trusset-error']).error.code).toBe('AUTH_FAILED');
    const viaExpress = await fallback('trusset_short', '?service=tr%61ding', 'head').expect(401);
    expect(JSON.parse(viaExpress.headers['x-trusset-error']).error.code).toBe('AUTH_FAILED');
  });

  it("echoes a sane X-Request-Id and replaces an insane one, and carries the API's security headers", async () => {
    const res = await lane('trusset_short').set('X-Request-Id', 'gateway-req-12345').expect(401);
    expect(res.headers['x-request-id']).toBe('gateway-req-12345');
    expect(res.body.metadata.requestId).toBe('gateway-req-12345');
    const insane = await lane('trusset_short').set('X-Request-Id', 'bad id!').expect(401);
    expect(insane.headers['x-request-id']).not.toBe('bad id!');
    expect(insane.headers['x-content-type-options']).toBe('nosniff');
    expect(insane.headers['content-security-policy']).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(insane.headers['content-type']).toBe('application/json; charset=utf-8');
  });

  it('writes no info-level access line for the raw lane but counts it in the metrics', async () => {
    const quiet = await startTestApp({ ...LIMITS_OUT_OF_REACH, LOG_LEVEL: 'info' });
    try {
      const requestId = `quiet-${randomBytes(6).toString('hex')}`;
      await quiet
        .http()
        .get('/api/auth/verify?service=trading')
        .set('X-API-Key', 'trusset_short')
        .set('X-Request-Id', requestId)
        .expect(401);
      await quiet
        .http()
        .get('/api/auth/verify?service=tr%61ding')
        .set('X-API-Key', 'trusset_short')
        .set('X-Request-Id', `${requestId}-x`)
        .expect(401);
      expect(capturedLogLines.some((l) => l.includes(`"${requestId}"`))).toBe(false);
      // The Express fallback still writes its access line, as every other route does.
      expect(capturedLogLines.some((l) => l.includes(`"${requestId}-x"`))).toBe(true);
      const metrics = await quiet.http().get('/api/metrics').expect(200);
      expect(metrics.text).toMatch(/http_requests_total\{method="GET",route="\/api\/auth\/verify",status="401"\} 2/);
    } finally {
      await quiet.close();
    }
  });
});
