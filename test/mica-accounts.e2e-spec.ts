import { randomUUID } from 'node:crypto';
import { sha256 } from '../src/common/crypto/secrets';
import { UsageTracker } from '../src/usage/usage.tracker';
import { capturedLogLines } from './support/log-capture';
import { startTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/test-app';

/** Every plaintext credential the suite saw; none may ever reach a log line. */
const issuedSecrets: string[] = [];

const uniqueEmail = (tag = 'dev') => `${tag}.${randomUUID()}@example.com`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

interface Account {
  id: string;
  email: string;
  apiKey: string;
  token: string;
}

async function register(t: TestApp, email = uniqueEmail(), headers: Record<string, string> = {}): Promise<Account> {
  const res = await t.http().post('/api/mica/developer/register').set(headers).send({ name: 'Test Developer', email }).expect(201);
  issuedSecrets.push(res.body.data.apiKey, res.body.data.managementToken);
  return { id: res.body.data.developer.id, email, apiKey: res.body.data.apiKey, token: res.body.data.managementToken };
}

function remember<T extends { apiKey?: string; managementToken?: string }>(data: T): T {
  if (data.apiKey) issuedSecrets.push(data.apiKey);
  if (data.managementToken) issuedSecrets.push(data.managementToken);
  return data;
}

/** Fixed one-minute windows: pin the clock inside one so a count can never straddle a boundary. */
function pinClockInsideOneMinute(): jest.SpyInstance {
  const start = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
  return jest.spyOn(Date, 'now').mockReturnValue(start);
}

describe('MiCA developer accounts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '1000', RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '1000' });
  });
  afterAll(() => t.close());

  const health = (key: string) => t.http().get('/api/mica/v1/health').set('X-API-Key', key);
  const keys = (token: string) => t.http().get('/api/mica/developer/keys').set(bearer(token));

  describe('registration', () => {
    it('hands out a MiCA key and a management token once, with no-store, storing only their digests', async () => {
      const email = uniqueEmail('Reg');
      const res = await t.http().post('/api/mica/developer/register').send({ name: '  Ada Lovelace ', email }).expect(201);
      const data = remember(res.body.data);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(data.developer).toEqual({ id: expect.any(String), email, name: 'Ada Lovelace' });
      expect(data.apiKey).toMatch(/^trusset_mica_[0-9a-f]{48}$/);
      expect(data.managementToken).toMatch(/^[0-9a-f]{64}$/);
      expect(data.limits).toEqual({ perMinute: 60, perDay: 5000, maxKeys: 3 });

      const [dev] = await t.dataSource.query(
        `SELECT management_token_digest, row_to_json(d)::text AS json FROM mica_developers d WHERE id = $1`,
        [data.developer.id],
      );
      expect(Buffer.compare(dev.management_token_digest, sha256(data.managementToken))).toBe(0);
      expect(dev.json).not.toContain(data.managementToken);
      const stored = await t.dataSource.query(
        `SELECT key_digest, key_prefix, row_to_json(k)::text AS json FROM mica_keys k WHERE developer_id = $1`,
        [data.developer.id],
      );
      expect(stored).toHaveLength(1);
      expect(Buffer.compare(stored[0].key_digest, sha256(data.apiKey))).toBe(0);
      expect(stored[0].key_prefix).toBe(data.apiKey.slice(0, 22));
      expect(stored[0].json).not.toContain(data.apiKey.slice(13));
    });

    it.each([
      ['a one-character name', { name: 'A', email: 'x@example.com' }],
      ['a 101-character name', { name: 'A'.repeat(101), email: 'x@example.com' }],
      ['a name with a line break', { name: 'Ada\nLovelace', email: 'x@example.com' }],
      ['no email', { name: 'Ada' }],
      ['an email without a domain', { name: 'Ada', email: 'ada@' }],
      ['an email without a top-level domain', { name: 'Ada', email: 'ada@localhost' }],
      ['an email that is not a string', { name: 'Ada', email: ['a@example.com'] }],
      ['an unknown field', { name: 'Ada', email: 'x@example.com', plan: 'pro' }],
    ])('refuses %s with VALIDATION_ERROR', async (_, body) => {
      const res = await t.http().post('/api/mica/developer/register').send(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    });

    it('refuses a second account for the same email in another case with EMAIL_EXISTS', async () => {
      const email = uniqueEmail('Case');
      await register(t, email);
      const res = await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Someone else', email: email.toUpperCase() })
        .expect(409);
      expect(res.body.error.code).toBe('EMAIL_EXISTS');
    });

    it('creates exactly one account when the same email signs up concurrently', async () => {
      const email = uniqueEmail('race');
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          t
            .http()
            .post('/api/mica/developer/register')
            .send({ name: `Racer ${i}`, email: i % 2 ? email.toUpperCase() : email }),
        ),
      );
      results.filter((r) => r.status === 201).forEach((r) => remember(r.body.data));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      expect(results.filter((r) => r.status === 409).every((r) => r.body.error.code === 'EMAIL_EXISTS')).toBe(true);
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM mica_developers WHERE lower(email) = lower($1)`, [email]);
      expect(n).toBe(1);
    });
  });

  describe('management token', () => {
    it.each([
      ['no header', undefined, 'UNAUTHORIZED'],
      ['another scheme', 'Basic abc', 'UNAUTHORIZED'],
      ['bearer without token', 'Bearer ', 'UNAUTHORIZED'],
      ['a wrong 64-hex token', `Bearer ${'a'.repeat(64)}`, 'INVALID_TOKEN'],
      ['upper-case hex', `Bearer ${'A'.repeat(64)}`, 'INVALID_TOKEN'],
      ['the admin token', `Bearer ${TEST_ADMIN_TOKEN}`, 'INVALID_TOKEN'],
      ['a very long token', `Bearer ${'a'.repeat(5000)}`, 'INVALID_TOKEN'],
    ])('refuses %s', async (_, header, code) => {
      const req = t.http().get('/api/mica/developer/keys');
      if (header !== undefined) req.set('Authorization', header);
      const res = await req.expect(401);
      expect(res.body.error.code).toBe(code);
    });

    it('refuses the account’s own API key as a bearer token with INVALID_TOKEN', async () => {
      const a = await register(t);
      const res = await keys(a.apiKey).expect(401);
      expect(res.body.error.code).toBe('INVALID_TOKEN');
    });

    it('rotates the management token: the new one works and the old one fails at once', async () => {
      const a = await register(t);
      const res = await t.http().post('/api/mica/developer/management-token/rotate').set(bearer(a.token)).expect(201);
      const rotated = remember(res.body.data);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(rotated.managementToken).toMatch(/^[0-9a-f]{64}$/);
      expect(rotated.managementToken).not.toBe(a.token);
      const old = await keys(a.token).expect(401);
      expect(old.body.error.code).toBe('INVALID_TOKEN');
      await keys(rotated.managementToken).expect(200);
      await health(a.apiKey).expect(200);
    });

    it('audits failed attempts without the presented token', async () => {
      const guess = 'b'.repeat(64);
      const requestId = `mica-failed-token-${randomUUID()}`;
      await keys(guess).set('X-Request-Id', requestId).expect(401);
      const rows = await t.dataSource.query(`SELECT actor_type, action, details::text AS details FROM audit_events WHERE request_id = $1`, [
        requestId,
      ]);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor_type: 'anonymous', action: 'mica.management_auth_failed' });
      expect(rows[0].details).not.toContain(guess);
    });
  });

  describe('keys', () => {
    it('lists the account’s keys with prefix, hint and usage, never the key itself', async () => {
      const a = await register(t);
      const res = await keys(a.token).expect(200);
      expect(res.body.data.developer).toEqual({ id: a.id, email: a.email, name: 'Test Developer' });
      expect(res.body.data.limits).toEqual({ perMinute: 60, perDay: 5000, maxKeys: 3 });
      expect(res.body.data.keys).toEqual([
        {
          id: expect.any(String),
          keyPrefix: a.apiKey.slice(0, 22),
          keyHint: a.apiKey.slice(-4),
          name: 'key',
          createdAt: expect.any(String),
          lastUsedAt: null,
          revokedAt: null,
          requestCount: 0,
          isActive: true,
        },
      ]);
      expect(JSON.stringify(res.body)).not.toContain(a.apiKey);
    });

    it('reports requestCount and lastUsedAt once usage is flushed', async () => {
      const a = await register(t);
      for (let i = 0; i < 3; i++) await health(a.apiKey).expect(200);
      await t.app.get(UsageTracker).flush();
      const [key] = (await keys(a.token).expect(200)).body.data.keys;
      expect(key.requestCount).toBe(3);
      expect(key.lastUsedAt).toEqual(expect.any(String));
    });

    it('creates keys up to 3 active, named or `key` by default, then refuses with KEY_LIMIT_REACHED', async () => {
      const a = await register(t);
      const named = await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({ name: ' staging ' }).expect(201);
      expect(named.headers['cache-control']).toBe('no-store');
      expect(remember(named.body.data)).toMatchObject({
        name: 'staging',
        isActive: true,
        apiKey: expect.stringMatching(/^trusset_mica_[0-9a-f]{48}$/),
      });
      const unnamed = await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({}).expect(201);
      expect(remember(unnamed.body.data).name).toBe('key');
      await health(named.body.data.apiKey).expect(200);

      const over = await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({}).expect(409);
      expect(over.body.error.code).toBe('KEY_LIMIT_REACHED');
      expect((await keys(a.token).expect(200)).body.data.keys).toHaveLength(3);
    });

    it('holds the 3-key cap under concurrent creates', async () => {
      const a = await register(t);
      const results = await Promise.all(
        Array.from({ length: 5 }, () => t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({})),
      );
      results.filter((r) => r.status === 201).forEach((r) => remember(r.body.data));
      expect(results.map((r) => r.status).sort()).toEqual([201, 201, 409, 409, 409]);
    });

    it.each([
      ['a 51-character name', { name: 'k'.repeat(51) }],
      ['an empty name', { name: '   ' }],
      ['an unknown field', { label: 'x' }],
    ])('refuses a key with %s', async (_, body) => {
      const a = await register(t);
      const res = await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send(body).expect(400);
      expect(res.body.error.code).toBe('VALIDATION_ERROR');
    });

    it('rotates a key: the new one works, the old one fails with INVALID_KEY at once, even at the cap', async () => {
      const a = await register(t);
      for (let i = 0; i < 2; i++)
        remember((await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({}).expect(201)).body.data);
      const [oldKey] = (await keys(a.token).expect(200)).body.data.keys.filter(
        (k: { keyHint: string }) => k.keyHint === a.apiKey.slice(-4),
      );

      const res = await t.http().post(`/api/mica/developer/keys/${oldKey.id}/rotate`).set(bearer(a.token)).expect(201);
      const rotated = remember(res.body.data);
      expect(res.headers['cache-control']).toBe('no-store');
      expect(rotated).toMatchObject({ name: oldKey.name, isActive: true, replacesKeyId: oldKey.id });
      expect(rotated.apiKey).not.toBe(a.apiKey);

      const refused = await health(a.apiKey).expect(401);
      expect(refused.body.error.code).toBe('INVALID_KEY');
      await health(rotated.apiKey).expect(200);

      const listed = (await keys(a.token).expect(200)).body.data.keys;
      expect(listed.find((k: { id: string }) => k.id === oldKey.id)).toMatchObject({ isActive: false, revokedAt: expect.any(String) });
      const again = await t.http().post(`/api/mica/developer/keys/${oldKey.id}/rotate`).set(bearer(a.token)).expect(409);
      expect(again.body.error.code).toBe('KEY_NOT_ACTIVE');
    });

    it('rotates a key at most once under concurrent requests', async () => {
      const a = await register(t);
      const [key] = (await keys(a.token).expect(200)).body.data.keys;
      const results = await Promise.all(
        Array.from({ length: 4 }, () => t.http().post(`/api/mica/developer/keys/${key.id}/rotate`).set(bearer(a.token))),
      );
      results.filter((r) => r.status === 201).forEach((r) => remember(r.body.data));
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
      const listed = (await keys(a.token).expect(200)).body.data.keys;
      expect(listed.filter((k: { isActive: boolean }) => k.isActive)).toHaveLength(1);
    });

    it('revokes a key at once; revoking it again is ALREADY_REVOKED', async () => {
      const a = await register(t);
      const [key] = (await keys(a.token).expect(200)).body.data.keys;
      await health(a.apiKey).expect(200);
      const res = await t.http().delete(`/api/mica/developer/keys/${key.id}`).set(bearer(a.token)).expect(200);
      expect(res.body.data).toMatchObject({ id: key.id, isActive: false, revokedAt: expect.any(String) });
      expect((await health(a.apiKey).expect(401)).body.error.code).toBe('INVALID_KEY');
      const again = await t.http().delete(`/api/mica/developer/keys/${key.id}`).set(bearer(a.token)).expect(409);
      expect(again.body.error.code).toBe('ALREADY_REVOKED');
      remember((await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({}).expect(201)).body.data);
    });

    it('answers 404 for another account’s key, an unknown key and a malformed key id, and leaves the key alone', async () => {
      const owner = await register(t);
      const intruder = await register(t);
      const [key] = (await keys(owner.token).expect(200)).body.data.keys;
      for (const req of [
        t.http().delete(`/api/mica/developer/keys/${key.id}`).set(bearer(intruder.token)),
        t.http().post(`/api/mica/developer/keys/${key.id}/rotate`).set(bearer(intruder.token)),
        t.http().delete(`/api/mica/developer/keys/${randomUUID()}`).set(bearer(owner.token)),
        t.http().post(`/api/mica/developer/keys/not-a-uuid/rotate`).set(bearer(owner.token)),
      ]) {
        const res = await req.expect(404);
        expect(res.body.error.code).toBe('NOT_FOUND');
      }
      await health(owner.apiKey).expect(200);
      expect((await keys(intruder.token).expect(200)).body.data.keys).toHaveLength(1);
    });
  });

  describe('events', () => {
    it('lets a developer read their own audit trail, newest first, without secrets', async () => {
      const a = await register(t);
      const other = await register(t);
      const [key] = (await keys(a.token).expect(200)).body.data.keys;
      const rotated = remember(
        (await t.http().post(`/api/mica/developer/keys/${key.id}/rotate`).set(bearer(a.token)).expect(201)).body.data,
      );
      await t.http().delete(`/api/mica/developer/keys/${rotated.id}`).set(bearer(a.token)).expect(200);
      const token = remember(
        (await t.http().post('/api/mica/developer/management-token/rotate').set(bearer(a.token)).expect(201)).body.data,
      ).managementToken;

      const res = await t.http().get('/api/mica/developer/events').set(bearer(token)).expect(200);
      expect(res.body.data.map((e: { action: string }) => e.action)).toEqual([
        'mica.management_token.rotated',
        'mica.key.revoked',
        'mica.key.rotated',
        'mica.key.created',
        'mica.key.created',
        'mica.developer.registered',
      ]);
      expect(res.body.data.every((e: { actor: string }) => e.actor === a.id)).toBe(true);
      expect(res.body.pagination).toMatchObject({ total: 6, returned: 6 });
      const text = JSON.stringify(res.body);
      for (const secret of [a.apiKey, a.token, rotated.apiKey, token]) expect(text).not.toContain(secret);
      expect(text).not.toContain(other.id);

      const page = await t.http().get('/api/mica/developer/events').query({ limit: 2, offset: 1 }).set(bearer(token)).expect(200);
      expect(page.body.data.map((e: { action: string }) => e.action)).toEqual(['mica.key.revoked', 'mica.key.rotated']);
    });
  });

  it('never writes an API key or a management token to a log line', () => {
    expect(issuedSecrets.length).toBeGreaterThan(20);
    const logs = capturedLogLines.join('\n');
    for (const secret of issuedSecrets) expect(logs).not.toContain(secret);
  });
});

describe('strict per-address limits behind a proxy', () => {
  let t: TestApp;
  let clock: jest.SpyInstance;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true', RATE_LIMIT_STRICT_PER_MINUTE: '10' });
  });
  beforeEach(() => {
    clock = pinClockInsideOneMinute();
  });
  afterEach(() => clock.mockRestore());
  afterAll(() => t.close());

  const flooder = `Flooder ${randomUUID()}`;
  const signup = (ip: string) =>
    t
      .http()
      .post('/api/mica/developer/register')
      .set('X-Forwarded-For', ip)
      .send({ name: flooder, email: uniqueEmail('flood') });

  it('limits registrations after the 10th from one forwarded address; a second address is unaffected', async () => {
    for (let i = 1; i <= 10; i++) {
      const res = await signup('203.0.113.10').expect(201);
      remember(res.body.data);
      expect(res.headers['x-ratelimit-limit']).toBe('10');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(10 - i));
      expect(Number(res.headers['x-ratelimit-reset'])).toBeGreaterThan(0);
    }
    const limited = await signup('203.0.113.10').expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM mica_developers WHERE name = $1`, [flooder]);
    expect(n).toBe(10);

    remember((await signup('203.0.113.11').expect(201)).body.data);
  });

  it('limits failed management-token attempts per forwarded address, never a valid token', async () => {
    const valid = remember((await signup('203.0.113.20').expect(201)).body.data).managementToken;
    const attempt = (ip: string, token: string) => t.http().get('/api/mica/developer/keys').set('X-Forwarded-For', ip).set(bearer(token));
    for (let i = 0; i < 10; i++) await attempt('198.51.100.7', 'c'.repeat(64)).expect(401);
    const limited = await attempt('198.51.100.7', 'c'.repeat(64)).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await attempt('198.51.100.7', valid).expect(200);
    expect((await attempt('198.51.100.8', 'c'.repeat(64)).expect(401)).body.error.code).toBe('INVALID_TOKEN');
  });
});

describe('key management limiter', () => {
  let t: TestApp;
  let clock: jest.SpyInstance;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_KEY_MANAGEMENT_PER_MINUTE: '3' });
  });
  beforeEach(() => {
    clock = pinClockInsideOneMinute();
  });
  afterEach(() => clock.mockRestore());
  afterAll(() => t.close());

  it('refuses the 4th management request of a developer in a minute; another developer is unaffected', async () => {
    const a = await register(t);
    const b = await register(t);
    for (let i = 1; i <= 3; i++) {
      const res = await t.http().get('/api/mica/developer/keys').set(bearer(a.token)).expect(200);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      expect(res.headers['x-ratelimit-remaining']).toBe(String(3 - i));
    }
    const limited = await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({}).expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await t.http().get('/api/mica/developer/keys').set(bearer(b.token)).expect(200);
  });
});
