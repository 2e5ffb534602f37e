import { randomUUID } from 'node:crypto';
import { FailedAttemptsService } from '../src/audit/failed-attempts.service';
import { createInstance } from './support/instance-fixtures';
import { capturedLogLines } from './support/log-capture';
import { pinClockInsideOneMinute } from './support/scale-helpers';
import { LIMITS_OUT_OF_REACH, startTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/test-app';

/** Issue #11, items 11 and 12: what the logs and the audit trail keep, and who reads it. */
const apiKey = (key: string) => ({ 'X-API-Key': key });
const wrongAdmin = { Authorization: 'Bearer wrong-admin-token-0123456789-xyz' };
let octet = Math.floor(Math.random() * 200);
/** A fresh client address per test, so strict per-address limits of one test never reach another. */
const nextAddress = () => `198.18.${Math.floor(Math.random() * 250)}.${(octet = (octet + 1) % 250) + 1}`;

describe('#11 item 11: configured secrets and operator details do not leak sideways', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS_OUT_OF_REACH, TRUST_PROXY: 'true' });
  });
  afterAll(() => t.close());

  it('redacts the configured ADMIN_TOKEN from the access log and the audit entry when it appears in a path or query, encoded or not', async () => {
    const encoded = TEST_ADMIN_TOKEN.replace(/[a-z]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
    for (const path of [
      `/api/admin/instances/${TEST_ADMIN_TOKEN}?token=${TEST_ADMIN_TOKEN}`,
      `/api/admin/instances/${encoded}/events`,
      `/api/admin/instances/${encodeURIComponent(TEST_ADMIN_TOKEN)}`,
    ]) {
      const requestId = `leak-${randomUUID()}`;
      const res = await t.http().get(path).set(wrongAdmin).set('X-Request-Id', requestId).set('X-Forwarded-For', nextAddress());
      expect([path, res.status]).toEqual([path, 401]);
      const [row] = await t.dataSource.query(`SELECT details FROM audit_events WHERE request_id = $1`, [requestId]);
      expect(row).toBeDefined();
      expect(JSON.stringify(row.details)).not.toContain(TEST_ADMIN_TOKEN);
      expect(JSON.stringify(row.details)).not.toContain(encoded);
      const lines = capturedLogLines.filter((l) => l.includes(requestId));
      expect(lines.length).toBeGreaterThan(0);
      for (const line of lines) {
        expect(line).not.toContain(TEST_ADMIN_TOKEN);
        expect(line).not.toContain(encoded);
      }
    }
  });

  it("hides operators' addresses and request ids from the tenant's own trail, and shows them to the operator", async () => {
    const inst = await createInstance(t);
    const other = (await t.http().post(`/api/admin/instances/${inst.ref}/keys`).set(t.admin).send({ name: 'other' }).expect(201)).body.data;
    const operatorRequest = `op-${randomUUID()}`;
    const operatorAddress = nextAddress();
    await t
      .http()
      .post(`/api/admin/instances/${inst.ref}/keys/${other.id}/pause`)
      .set(t.admin)
      .set('X-Request-Id', operatorRequest)
      .set('X-Forwarded-For', operatorAddress)
      .send({ durationSeconds: 60 })
      .expect(200);
    const tenantRequest = `tenant-${randomUUID()}`;
    await t.http().post(`/api/keys/${other.id}/resume`).set(apiKey(inst.key)).set('X-Request-Id', tenantRequest).expect(200);

    const tenant = (await t.http().get('/api/keys/events').set(apiKey(inst.key)).expect(200)).body.data;
    const paused = tenant.find((e: { action: string }) => e.action === 'key.paused');
    expect(paused).toMatchObject({ actor: 'admin', actorType: 'admin', ip: null, requestId: null });
    expect(JSON.stringify(tenant)).not.toContain(operatorAddress);
    expect(JSON.stringify(tenant)).not.toContain(operatorRequest);
    expect(tenant.find((e: { action: string }) => e.action === 'key.resumed')).toMatchObject({
      actorType: 'instance_key',
      requestId: tenantRequest,
    });

    const operator = (await t.http().get(`/api/admin/instances/${inst.ref}/events`).set(t.admin).expect(200)).body.data;
    expect(operator.find((e: { action: string }) => e.action === 'key.paused')).toMatchObject({
      ip: operatorAddress,
      requestId: operatorRequest,
    });
  });
});

describe('#11 item 12: unauthenticated audit growth is bounded', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      ...LIMITS_OUT_OF_REACH,
      RATE_LIMIT_STRICT_PER_MINUTE: '3',
      TRUST_PROXY: 'true',
      AUDIT_FAILED_AUTH_RETENTION_DAYS: '30',
    });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('stores at most 256 characters of a failed attempt’s path', async () => {
    const requestId = `long-${randomUUID()}`;
    await t
      .http()
      .get(`/api/admin/instances/${'x'.repeat(8000)}`)
      .set(wrongAdmin)
      .set('X-Request-Id', requestId)
      .set('X-Forwarded-For', nextAddress())
      .expect(401);
    const [row] = await t.dataSource.query(`SELECT details FROM audit_events WHERE request_id = $1`, [requestId]);
    expect([...row.details.path].length).toBeLessThanOrEqual(256);
    expect(JSON.stringify(row.details).length).toBeLessThan(512);
  });

  it('stores failed attempts one by one up to the strict limit, then counts the rest in one row the operator reads at /api/admin/events', async () => {
    pinClockInsideOneMinute();
    const address = nextAddress();
    const since = new Date(Date.now() - 1000).toISOString();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await t.http().get('/api/admin/instances').set(wrongAdmin).set('X-Forwarded-For', address)).status);
    for (let i = 0; i < 2; i++)
      statuses.push(
        (
          await t
            .http()
            .get('/api/mica/developer/keys')
            .set('Authorization', `Bearer ${'0'.repeat(63)}z`)
            .set('X-Forwarded-For', address)
        ).status,
      );
    expect(statuses).toEqual([401, 401, 401, ...Array(9).fill(429)]);
    const [{ stored }] = await t.dataSource.query(
      `SELECT count(*)::int AS stored FROM audit_events WHERE ip = $1 AND action = 'admin.auth_failed'`,
      [address],
    );
    expect(stored).toBe(3);

    await t.app.get(FailedAttemptsService).flush();
    jest.restoreAllMocks();
    const res = await t
      .http()
      .get(`/api/admin/events?action=auth.failures_suppressed&since=${encodeURIComponent(since)}&limit=500`)
      .set(t.admin)
      .expect(200);
    const mine = res.body.data.filter((e: { ip: string }) => e.ip === address);
    expect(mine).toHaveLength(1);
    expect(mine[0].details).toMatchObject({ count: 9, byAction: { 'admin.auth_failed': 7, 'mica.management_auth_failed': 2 } });
    const failed = (
      await t
        .http()
        .get(`/api/admin/events?action=admin.auth_failed&since=${encodeURIComponent(since)}&limit=500`)
        .set(t.admin)
        .expect(200)
    ).body.data;
    expect(failed.filter((e: { ip: string }) => e.ip === address)).toHaveLength(3);
  });

  it('refuses /api/admin/events queries that are out of range', async () => {
    for (const query of ['since=2026-01-01T00:00:00', 'since=yesterday', 'action=DROP%20TABLE', 'limit=501', 'other=1']) {
      const res = await t.http().get(`/api/admin/events?${query}`).set(t.admin);
      expect([query, res.status, res.body.error?.code]).toEqual([query, 400, 'VALIDATION_ERROR']);
    }
    await t.http().get('/api/admin/events').set(wrongAdmin).set('X-Forwarded-For', nextAddress()).expect(401);
  });

  it('prunes failed attempts past AUDIT_FAILED_AUTH_RETENTION_DAYS and keeps younger ones and every tenant event', async () => {
    const address = nextAddress();
    const old = `old-${randomUUID()}`;
    const young = `young-${randomUUID()}`;
    await t.http().get('/api/admin/instances').set(wrongAdmin).set('X-Request-Id', old).set('X-Forwarded-For', address).expect(401);
    await t.http().get('/api/admin/instances').set(wrongAdmin).set('X-Request-Id', young).set('X-Forwarded-For', address).expect(401);
    const inst = await createInstance(t);
    await t.dataSource.query(`UPDATE audit_events SET at = now() - interval '31 days' WHERE request_id = $1`, [old]);
    await t.dataSource.query(`UPDATE audit_events SET at = now() - interval '29 days' WHERE request_id = $1`, [young]);
    await t.dataSource.query(`UPDATE audit_events SET at = now() - interval '400 days' WHERE instance_id = $1`, [inst.id]);
    // Not the count it returns: another suite's app on the same server database prunes at its start too.
    await t.app.get(FailedAttemptsService).prune();
    const left = await t.dataSource.query(`SELECT request_id FROM audit_events WHERE request_id = ANY($1::text[])`, [[old, young]]);
    expect(left).toEqual([{ request_id: young }]);
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE instance_id = $1`, [inst.id]);
    expect(n).toBeGreaterThan(0);
  });
});
