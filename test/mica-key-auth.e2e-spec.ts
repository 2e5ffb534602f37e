import { randomUUID } from 'node:crypto';
import { capturedLogLines } from './support/log-capture';
import { startTestApp, TestApp } from './support/test-app';

const issuedSecrets: string[] = [];

async function register(t: TestApp): Promise<{ apiKey: string; token: string }> {
  const res = await t
    .http()
    .post('/api/mica/developer/register')
    .send({ name: 'Key Tester', email: `keys.${randomUUID()}@example.com` })
    .expect(201);
  issuedSecrets.push(res.body.data.apiKey, res.body.data.managementToken);
  return { apiKey: res.body.data.apiKey, token: res.body.data.managementToken };
}

async function extraKey(t: TestApp, token: string): Promise<string> {
  const res = await t.http().post('/api/mica/developer/keys').set('Authorization', `Bearer ${token}`).send({}).expect(201);
  issuedSecrets.push(res.body.data.apiKey);
  return res.body.data.apiKey;
}

/** Fixed one-minute windows: pin the clock inside one so a count can never straddle a boundary. */
function pinClockInsideOneMinute(): jest.SpyInstance {
  const start = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
  return jest.spyOn(Date, 'now').mockReturnValue(start);
}

describe('MiCA key guard', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '1000' });
  });
  afterAll(() => t.close());

  const health = () => t.http().get('/api/mica/v1/health');

  it('admits a valid key to the health route with the per-minute and per-day limit headers', async () => {
    const { apiKey } = await register(t);
    const res = await health().set('X-API-Key', apiKey).expect(200);
    // Other files may have imported register data into a shared database: the count is theirs.
    expect(res.body.data).toMatchObject({ status: 'ok', totalIssuers: expect.any(Number), apiVersion: 'v1' });
    expect(res.body.data).toHaveProperty('lastSync');
    expect(res.headers).toMatchObject({
      'x-ratelimit-limit-minute': '60',
      'x-ratelimit-remaining-minute': '59',
      'x-ratelimit-limit-day': '5000',
      'x-ratelimit-remaining-day': '4999',
    });
    expect(Number(res.headers['x-ratelimit-reset-minute'])).toBeGreaterThan(0);
    expect(Number(res.headers['x-ratelimit-reset-day'])).toBeGreaterThan(0);
  });

  it.each([
    ['no key', undefined],
    ['an empty key', ''],
    ['an instance key', `trusset_aB3dE5fG_${'a'.repeat(64)}`],
    ['a key with the prefix in upper case', `TRUSSET_MICA_${'a'.repeat(48)}`],
    ['a bare secret', 'a'.repeat(48)],
  ])('refuses %s with UNAUTHORIZED', async (_, key) => {
    const req = health();
    if (key !== undefined) req.set('X-API-Key', key);
    const res = await req.expect(401);
    expect(res.body.error.code).toBe('UNAUTHORIZED');
  });

  it('ignores a key sent anywhere but the X-API-Key header', async () => {
    const { apiKey } = await register(t);
    expect((await health().query({ apiKey, api_key: apiKey }).expect(401)).body.error.code).toBe('UNAUTHORIZED');
    expect((await health().set('Authorization', `Bearer ${apiKey}`).expect(401)).body.error.code).toBe('UNAUTHORIZED');
  });

  it.each([
    ['upper-case hex', `trusset_mica_${'A'.repeat(48)}`],
    ['47 hex', `trusset_mica_${'a'.repeat(47)}`],
    ['49 hex', `trusset_mica_${'a'.repeat(49)}`],
    ['two keys joined', `trusset_mica_${'a'.repeat(48)}trusset_mica_${'b'.repeat(48)}`],
    ['a very long key', `trusset_mica_${'a'.repeat(6000)}`],
    ['an unknown well-formed key', `trusset_mica_${'0'.repeat(48)}`],
  ])('refuses %s with INVALID_KEY', async (_, key) => {
    const res = await health().set('X-API-Key', key).expect(401);
    expect(res.body.error.code).toBe('INVALID_KEY');
  });

  it('refuses a key whose last character is changed, and a revoked key, with the same INVALID_KEY body', async () => {
    const { apiKey, token } = await register(t);
    const tampered = apiKey.slice(0, -1) + (apiKey.endsWith('0') ? '1' : '0');
    const wrong = await health().set('X-API-Key', tampered).expect(401);
    const [key] = (await t.http().get('/api/mica/developer/keys').set('Authorization', `Bearer ${token}`).expect(200)).body.data.keys;
    await t.http().delete(`/api/mica/developer/keys/${key.id}`).set('Authorization', `Bearer ${token}`).expect(200);
    const revoked = await health().set('X-API-Key', apiKey).expect(401);
    expect(revoked.body.error).toEqual(wrong.body.error);
    expect(revoked.body.error.code).toBe('INVALID_KEY');
  });

  it('never lets a MiCA key through the instance key check', async () => {
    const { apiKey } = await register(t);
    const res = await t.http().get('/api/auth/verify').set('X-API-Key', apiKey).expect(401);
    expect(res.body.error.code).toBe('AUTH_FAILED');
  });

  it('refuses a management token in X-API-Key', async () => {
    const { token } = await register(t);
    expect((await health().set('X-API-Key', token).expect(401)).body.error.code).toBe('UNAUTHORIZED');
  });

  it('refuses the 61st request of a key in a minute with Retry-After; another key is unaffected', async () => {
    const clock = pinClockInsideOneMinute();
    try {
      const { apiKey, token } = await register(t);
      const other = await extraKey(t, token);
      for (let i = 1; i <= 60; i++) await health().set('X-API-Key', apiKey).expect(200);
      const limited = await health().set('X-API-Key', apiKey).expect(429);
      expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.headers['x-ratelimit-remaining-minute']).toBe('0');
      expect(limited.headers['x-ratelimit-remaining-day']).toBe('4940');
      const fresh = await health().set('X-API-Key', other).expect(200);
      expect(fresh.headers['x-ratelimit-remaining-minute']).toBe('59');
    } finally {
      clock.mockRestore();
    }
  });

  it('documents the MiCA key and management-token schemes on their routes in OpenAPI', async () => {
    const doc = (await t.http().get('/api/docs-json').expect(200)).body;
    expect(doc.components.securitySchemes['mica-key']).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    expect(doc.components.securitySchemes['mica-management-token']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/api/mica/v1/health'].get.security).toEqual([{ 'mica-key': [] }]);
    expect(doc.paths['/api/mica/developer/keys'].get.security).toEqual([{ 'mica-management-token': [] }]);
    expect(doc.paths['/api/mica/developer/register'].post.security).toEqual([]);
  });

  it('never writes a MiCA key to a log line', () => {
    const logs = capturedLogLines.join('\n');
    for (const secret of issuedSecrets) expect(logs).not.toContain(secret);
  });
});

describe('MiCA key guard: daily limit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ MICA_RATE_LIMIT_PER_DAY: '3', MICA_RATE_LIMIT_PER_MINUTE: '100' });
  });
  afterAll(() => t.close());

  it('refuses a key past its daily allowance until the UTC day ends', async () => {
    const clock = pinClockInsideOneMinute();
    try {
      const { apiKey } = await register(t);
      for (let i = 0; i < 3; i++) await t.http().get('/api/mica/v1/health').set('X-API-Key', apiKey).expect(200);
      const limited = await t.http().get('/api/mica/v1/health').set('X-API-Key', apiKey).expect(429);
      expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
      expect(limited.headers['x-ratelimit-remaining-day']).toBe('0');
      const endOfDay = Math.ceil((Math.floor(Date.now() / 86_400_000 + 1) * 86_400_000 - Date.now()) / 1000);
      expect(limited.headers['retry-after']).toBe(String(endOfDay));
    } finally {
      clock.mockRestore();
    }
  });
});

describe('MiCA key guard: undecidable checks', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ AUTH_DECISION_TIMEOUT_MS: '200' });
  });
  afterAll(() => t.close());

  it('answers 500 AUTH_ERROR, never a pass, while the key table cannot be read', async () => {
    const { apiKey } = await register(t);
    const blocker = t.dataSource.createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    try {
      await blocker.query('LOCK TABLE mica_keys IN ACCESS EXCLUSIVE MODE');
      const res = await t.http().get('/api/mica/v1/health').set('X-API-Key', apiKey).expect(500);
      expect(res.body.error.code).toBe('AUTH_ERROR');
    } finally {
      await blocker.rollbackTransaction();
      await blocker.release();
    }
    await t.http().get('/api/mica/v1/health').set('X-API-Key', apiKey).expect(200);
  });
});
