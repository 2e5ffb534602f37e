import { adminKeys, createInstance } from './support/instance-fixtures';
import { pinClockInsideOneMinute, registerMicaDeveloper } from './support/scale-helpers';
import { LIMITS_OUT_OF_REACH, onPostgresServer, startTestApp, TestApp } from './support/test-app';
import { UsageTracker } from '../src/usage/usage.tracker';
import { UsageHistoryService } from '../src/usage-history/usage-history.service';

/**
 * SPEC §17. The flush interval is an hour, so nothing reaches the database until a test flushes
 * (UsageTracker.flush, what the timer and shutdown call): what is read is what one flush wrote.
 */
const ENV = { ...LIMITS_OUT_OF_REACH, TRUST_PROXY: 'loopback', USAGE_FLUSH_INTERVAL_MS: '3600000' };
const DAY_MS = 86_400_000;
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('usage history (SPEC §17)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(ENV);
  });
  afterAll(async () => {
    await t.close();
  });
  afterEach(() => jest.restoreAllMocks());

  const flush = () => t.app.get(UsageTracker).flush();
  const verify = (key: string, from: string, service?: string) =>
    t
      .http()
      .get('/api/auth/verify')
      .query(service ? { service } : {})
      .set('X-API-Key', key)
      .set('X-Forwarded-For', from);
  const adminUsage = (ref: string, keyId: string, query: Record<string, string> = {}) =>
    t
      .http()
      .get(adminKeys(ref, `/${keyId}/usage`))
      .query(query)
      .set(t.admin);

  it('counts admitted requests and refusals by reason in the hour, and the buckets sum to requestCount', async () => {
    pinClockInsideOneMinute();
    const inst = await createInstance(t, ['trading', 'custody']);
    const narrow = (
      await t
        .http()
        .post(adminKeys(inst.ref))
        .set(t.admin)
        .send({ name: 'n', services: ['trading'], allowedCidrs: ['10.0.0.0/8'], rateLimitPerMinute: 3 })
        .expect(201)
    ).body.data;
    for (let i = 0; i < 2; i++) expect((await verify(narrow.key, '192.0.2.1', 'trading')).status).toBe(403);
    expect((await verify(narrow.key, '10.0.0.1', 'custody')).body.error.code).toBe('SERVICE_NOT_ENABLED');
    for (let i = 0; i < 3; i++) await verify(narrow.key, '10.0.0.1', 'trading').expect(200);
    for (let i = 0; i < 2; i++) expect((await verify(narrow.key, '10.0.0.1', 'trading')).status).toBe(429);
    await flush();

    const res = await adminUsage(inst.ref, narrow.id, { granularity: 'hour' }).expect(200);
    const hour = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
    expect(res.body.data).toMatchObject({
      keyId: narrow.id,
      granularity: 'hour',
      requestCount: 3,
      totals: { requests: 3, refused: { IP_NOT_ALLOWED: 2, SERVICE_NOT_ENABLED: 1, RATE_LIMIT_EXCEEDED: 2 } },
      buckets: [{ start: hour, requests: 3, refused: { IP_NOT_ALLOWED: 2, SERVICE_NOT_ENABLED: 1, RATE_LIMIT_EXCEEDED: 2 } }],
    });
    const key = await t
      .http()
      .get(adminKeys(inst.ref, `/${narrow.id}`))
      .set(t.admin)
      .expect(200);
    expect(key.body.data.requestCount).toBe(3);
  });

  it('answers the same through the self-service door, for keys of its own instance only', async () => {
    const inst = await createInstance(t);
    const other = await createInstance(t);
    for (let i = 0; i < 4; i++) await verify(inst.key, '10.0.0.1').expect(200);
    await flush();
    const own = await t.http().get(`/api/keys/${inst.keyId}/usage`).set('X-API-Key', inst.key).expect(200);
    // The read itself is an admitted request, counted at the next flush.
    expect(own.body.data).toMatchObject({ requestCount: 4, totals: { requests: 4 } });
    expect(own.body.data.buckets.reduce((n: number, b: { requests: number }) => n + b.requests, 0)).toBe(4);
    const foreign = await t.http().get(`/api/keys/${other.keyId}/usage`).set('X-API-Key', inst.key);
    expect([foreign.status, foreign.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await adminUsage(inst.ref, other.keyId)).status).toBe(404);
    expect((await adminUsage('Zz9Zz9Zz', inst.keyId)).status).toBe(404);
  });

  it('groups hours into UTC days, inside from and to (both inclusive)', async () => {
    const inst = await createInstance(t);
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const rows: Array<[number, number, number]> = [
      [today - 3 * DAY_MS + 1 * 3_600_000, 5, 1],
      [today - 3 * DAY_MS + 23 * 3_600_000, 7, 0],
      [today - 2 * DAY_MS, 11, 2],
      [today - 10 * DAY_MS, 100, 0],
    ];
    for (const [hour, requests, refused] of rows) {
      await t.dataSource.query(
        `INSERT INTO key_usage_hourly (key_kind, key_id, hour, requests, refused_rate_limited) VALUES ('instance_key', $1, $2, $3, $4)`,
        [inst.keyId, new Date(hour).toISOString(), requests, refused],
      );
    }
    const days = await adminUsage(inst.ref, inst.keyId, { from: isoDay(today - 3 * DAY_MS), to: isoDay(today - 2 * DAY_MS) }).expect(200);
    expect(days.body.data).toMatchObject({ from: isoDay(today - 3 * DAY_MS), to: isoDay(today - 2 * DAY_MS), granularity: 'day' });
    expect(
      days.body.data.buckets.map((b: { start: string; requests: number; refused: { RATE_LIMIT_EXCEEDED: number } }) => [
        b.start,
        b.requests,
        b.refused.RATE_LIMIT_EXCEEDED,
      ]),
    ).toEqual([
      [new Date(today - 3 * DAY_MS).toISOString(), 12, 1],
      [new Date(today - 2 * DAY_MS).toISOString(), 11, 2],
    ]);
    const hours = await adminUsage(inst.ref, inst.keyId, {
      from: isoDay(today - 3 * DAY_MS),
      to: isoDay(today - 3 * DAY_MS),
      granularity: 'hour',
    }).expect(200);
    expect(hours.body.data.buckets.map((b: { requests: number }) => b.requests)).toEqual([5, 7]);
    // The default range is the 30 days up to today.
    const recent = await adminUsage(inst.ref, inst.keyId).expect(200);
    expect(recent.body.data).toMatchObject({ from: isoDay(today - 29 * DAY_MS), to: isoDay(today), totals: { requests: 123 } });
  });

  it.each<[string, Record<string, string>, string]>([
    ['from after to', { from: '2026-11-02', to: '2026-11-01' }, 'from'],
    ['more than 400 days apart', { from: '2025-01-01', to: '2026-02-06' }, 'to'],
    ['a date that does not exist', { from: '2026-02-30' }, 'from'],
    ['a time instead of a date', { to: '2026-11-01T00:00:00Z' }, 'to'],
    ['another granularity', { granularity: 'week' }, 'granularity'],
    ['an unknown parameter', { limit: '5' }, 'limit'],
  ])('refuses %s with VALIDATION_ERROR', async (_, query, field) => {
    const inst = await createInstance(t);
    const res = await adminUsage(inst.ref, inst.keyId, query);
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_ERROR']);
    expect(Object.keys(res.body.error.details)).toContain(field);
  });

  it('accepts from and to exactly 400 days apart', async () => {
    const inst = await createInstance(t);
    await adminUsage(inst.ref, inst.keyId, { from: '2025-01-01', to: '2026-02-05' }).expect(200);
  });

  it('prunes buckets older than USAGE_RETENTION_DAYS and keeps the rest', async () => {
    const inst = await createInstance(t);
    const now = Date.now();
    for (const daysAgo of [401, 399]) {
      const hour = Math.floor((now - daysAgo * DAY_MS) / 3_600_000) * 3_600_000;
      await t.dataSource.query(`INSERT INTO key_usage_hourly (key_kind, key_id, hour, requests) VALUES ('instance_key', $1, $2, 1)`, [
        inst.keyId,
        new Date(hour).toISOString(),
      ]);
    }
    expect(await t.app.get(UsageHistoryService).prune()).toBeGreaterThanOrEqual(1);
    const left: Array<{ days: number }> = await t.dataSource.query(
      `SELECT round(extract(epoch FROM now() - hour) / 86400)::int AS days FROM key_usage_hourly WHERE key_id = $1`,
      [inst.keyId],
    );
    expect(left.map((r) => r.days)).toEqual([399]);
  });

  it("answers a MiCA account's keys with their history and today's quota", async () => {
    const mica = await startTestApp({ ...ENV, MICA_RATE_LIMIT_PER_MINUTE: '2', MICA_RATE_LIMIT_PER_DAY: '50' });
    try {
      pinClockInsideOneMinute();
      const dev = await registerMicaDeveloper(mica);
      for (let i = 0; i < 2; i++) await mica.http().get('/api/mica/v1/health').set('X-API-Key', dev.apiKey).expect(200);
      expect((await mica.http().get('/api/mica/v1/health').set('X-API-Key', dev.apiKey)).status).toBe(429);
      await mica.app.get(UsageTracker).flush();
      const res = await mica
        .http()
        .get('/api/mica/developer/usage')
        .query({ granularity: 'hour' })
        .set('Authorization', `Bearer ${dev.token}`)
        .expect(200);
      const [key] = res.body.data.keys;
      const tomorrow = new Date((Math.floor(Date.now() / DAY_MS) + 1) * DAY_MS).toISOString();
      expect(key).toMatchObject({
        keyId: dev.keyId,
        isActive: true,
        requestCount: 2,
        totals: { requests: 2, refused: { RATE_LIMIT_EXCEEDED: 1 } },
        quota: { limit: 50, used: 2, remaining: 48, resetsAt: tomorrow },
      });
      expect(key.buckets).toHaveLength(1);
    } finally {
      await mica.close();
    }
  });
});

/** Two replicas counting the same key: their flushes add up in the same buckets. */
(onPostgresServer ? describe : describe.skip)('usage history across two replicas (needs a PostgreSQL server)', () => {
  let a: TestApp;
  let b: TestApp;
  beforeAll(async () => {
    a = await startTestApp(ENV);
    b = await startTestApp(ENV);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('adds up what each replica counted, and still sums to requestCount', async () => {
    const inst = await createInstance(a);
    for (let i = 0; i < 5; i++) await a.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    for (let i = 0; i < 7; i++) await b.http().get('/api/auth/verify').set('X-API-Key', inst.key).expect(200);
    await Promise.all([a.app.get(UsageTracker).flush(), b.app.get(UsageTracker).flush()]);
    const res = await a
      .http()
      .get(adminKeys(inst.ref, `/${inst.keyId}/usage`))
      .set(a.admin)
      .expect(200);
    expect(res.body.data).toMatchObject({ requestCount: 12, totals: { requests: 12 } });
  });
});
