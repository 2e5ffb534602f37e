import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { envelopeProblem } from './support/envelope-checks';
import { adminKeys, createInstance } from './support/instance-fixtures';
import { capturedLogLines } from './support/log-capture';
import { SECRET_SHAPES } from './support/secret-scan';
import { startTestApp, TestApp } from './support/test-app';

/*
 * Abuse of the HTTP surface (oversized input, log and audit forging, guessing from one address) and
 * secret hygiene at rest: no table ever holds a plaintext credential.
 */

const uniqueEmail = (tag: string) => `${tag}.${randomUUID()}@example.com`;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** Fixed one-minute windows: pin the clock inside one so a count can never straddle a boundary. */
function pinClockInsideOneMinute(): jest.SpyInstance {
  const start = Math.floor(Date.now() / 60_000) * 60_000 + 1_000;
  return jest.spyOn(Date, 'now').mockReturnValue(start);
}

function expectSecurityHeaders(headers: Record<string, string>): void {
  expect(headers['x-powered-by']).toBeUndefined();
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['content-security-policy']).toContain("default-src 'none'");
}

describe('oversized and out-of-range input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '1000000' });
  });
  afterAll(() => t.close());

  it('refuses oversized headers with 431 in the envelope, even carrying a valid credential', async () => {
    const inst = await createInstance(t);
    for (const req of [
      t.http().get('/api/keys').set('X-API-Key', inst.key).set('X-Padding', 'p'.repeat(20_000)),
      t
        .http()
        .get('/api/admin/instances')
        .set('Authorization', `Bearer ${'a'.repeat(20_000)}`),
      t
        .http()
        .post('/api/mica/developer/register')
        .set('X-API-Key', `trusset_mica_${'0'.repeat(20_000)}`)
        .send({}),
    ]) {
      const res = await req;
      expect(res.status).toBe(431);
      expect(res.body.error.code).toBe('REQUEST_HEADER_FIELDS_TOO_LARGE');
      expectSecurityHeaders(res.headers);
    }
  });

  it('refuses an oversized body with 413 on every kind of write, before any guard or validation', async () => {
    const inst = await createInstance(t);
    const big = { name: 'n'.repeat(t.config.http.bodyLimitBytes) };
    for (const req of [
      t.http().post('/api/admin/instances').set(t.admin),
      t.http().post('/api/keys').set('X-API-Key', inst.key),
      t.http().post('/api/mica/developer/register'),
      t.http().post(adminKeys(inst.ref, `/${inst.keyId}/rotate`)),
      t.http().patch(`/api/admin/instances/${inst.ref}`),
    ]) {
      const res = await req.send(big);
      expect(res.status).toBe(413);
      expect(envelopeProblem(res)).toBeUndefined();
      expect(res.body.error.code).toBe('PAYLOAD_TOO_LARGE');
      expectSecurityHeaders(res.headers);
    }
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM instance_keys WHERE instance_id = $1`, [inst.id]);
    expect(n).toBe(1);
  });

  it('refuses page sizes over 500 on every list with 400, and takes 500', async () => {
    const inst = await createInstance(t);
    const reg = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Pager', email: uniqueEmail('pager') })
        .expect(201)
    ).body.data;
    const lists: Array<[string, Record<string, string>]> = [
      ['/api/admin/instances', t.admin],
      [adminKeys(inst.ref), t.admin],
      [`/api/admin/instances/${inst.ref}/events`, t.admin],
      ['/api/keys', { 'X-API-Key': inst.key }],
      ['/api/keys/events', { 'X-API-Key': inst.key }],
      ['/api/mica/developer/events', bearer(reg.managementToken)],
      ['/api/mica/v1/issuers', { 'X-API-Key': reg.apiKey }],
      ['/api/mica/v1/changes', { 'X-API-Key': reg.apiKey }],
    ];
    for (const [path, headers] of lists) {
      const refused = await t.http().get(path).query({ limit: '501' }).set(headers);
      expect([path, refused.status, refused.body.error?.code]).toEqual([path, 400, 'VALIDATION_ERROR']);
      expect(refused.body.error.details).toHaveProperty('limit');
      const taken = await t.http().get(path).query({ limit: '500' }).set(headers);
      expect([path, taken.status, taken.body.pagination?.limit]).toEqual([path, 200, 500]);
    }
    const search = await t.http().get('/api/mica/v1/search').query({ q: 'bank', limit: '101' }).set('X-API-Key', reg.apiKey);
    expect(search.status).toBe(400);
  });
});

describe('log and audit forging', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '1000000' });
  });
  afterAll(() => t.close());

  const FORGED = 'FORGED-ENTRY';
  const injections = [
    `ok\r\n{"level":"error","msg":"${FORGED}"}`,
    `ok\n${FORGED}`,
    `ok\r${FORGED}`,
    `ok\u0000${FORGED}`,
    `ok\u001b[2K${FORGED}`,
  ];

  it('refuses control characters in instance, key and developer names, so nothing forged is stored', async () => {
    const inst = await createInstance(t);
    for (const name of injections) {
      const attempts = [
        t.http().post('/api/admin/instances').set(t.admin).send({ name }),
        t.http().patch(`/api/admin/instances/${inst.ref}`).set(t.admin).send({ name }),
        t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name }),
        t.http().post('/api/keys').set('X-API-Key', inst.key).send({ name }),
        t
          .http()
          .post('/api/mica/developer/register')
          .send({ name, email: uniqueEmail('forge') }),
      ];
      for (const res of await Promise.all(attempts)) {
        expect([res.status, res.body.error?.code]).toEqual([400, 'VALIDATION_ERROR']);
        expect(res.body.error.details).toHaveProperty('name');
      }
    }
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Forger', email: uniqueEmail('forger') })
        .expect(201)
    ).body.data;
    for (const name of injections) {
      const res = await t.http().post('/api/mica/developer/keys').set(bearer(dev.managementToken)).send({ name });
      expect(res.status).toBe(400);
    }
    for (const table of ['instances', 'instance_keys', 'mica_developers', 'mica_keys', 'audit_events']) {
      const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM ${table} t WHERE row_to_json(t)::text LIKE '%${FORGED}%'`);
      expect([table, n]).toEqual([table, 0]);
    }
  });

  it('replaces an X-Request-Id that could forge a log line, in the answer, the log and the audit trail', async () => {
    const insane = [`abcdefgh","level":"error","msg":"${FORGED}`, `abcdefgh ${FORGED}`, `${FORGED}\u00e9\u00ff`, 'x'.repeat(129), 'short'];
    for (const id of insane) {
      const res = await t.http().get('/api/admin/instances').set('Authorization', 'Bearer wrong').set('X-Request-Id', id).expect(401);
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(res.body.metadata.requestId).toBe(res.headers['x-request-id']);
    }
    const [{ n }] = await t.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_events WHERE request_id LIKE '%${FORGED}%' OR request_id = 'short'`,
    );
    expect(n).toBe(0);
  });

  it('answers a header that tries to smuggle a second line with 400, not a forged request', async () => {
    const { port } = (
      t.app.getHttpServer().listening ? t.app.getHttpServer() : await t.app.listen(0, '127.0.0.1')
    ).address() as AddressInfo;
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () =>
        socket.write(`GET /api/health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: abcdefgh\r${FORGED}: 1\r\n\r\n`),
      );
      let data = '';
      socket.on('data', (d) => (data += d.toString('utf8')));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"VALIDATION_ERROR"');
  });

  it('writes every log line as one JSON object on one line, none of them forged', () => {
    expect(capturedLogLines.length).toBeGreaterThan(0);
    for (const line of capturedLogLines) {
      expect(line).not.toMatch(/[\r\n]/);
      const entry = JSON.parse(line);
      expect(typeof entry.level).toBe('string');
      expect(entry.msg).not.toBe(FORGED);
    }
  });
});

describe('failed authentication from one address behind a proxy', () => {
  let t: TestApp;
  let clock: jest.SpyInstance;
  beforeAll(async () => {
    t = await startTestApp({ TRUST_PROXY: 'true', RATE_LIMIT_STRICT_PER_MINUTE: '3' });
  });
  beforeEach(() => {
    clock = pinClockInsideOneMinute();
  });
  afterEach(() => clock.mockRestore());
  afterAll(() => t.close());

  it('limits the address across the admin and management doors, never a valid credential, nor another address', async () => {
    const inst = await createInstance(t);
    const dev = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .set('X-Forwarded-For', '192.0.2.200')
        .send({ name: 'Victim', email: uniqueEmail('victim') })
        .expect(201)
    ).body.data;
    // Request ids tell this run's attempts apart from earlier runs on a shared server database.
    const run = randomUUID();
    let attempt = 0;
    const from = (ip: string) => ({ 'X-Forwarded-For': ip, 'X-Request-Id': `${run}-${attempt++}` });
    const attacker = from('192.0.2.66');

    for (let i = 0; i < 3; i++)
      await t.http().get('/api/admin/instances').set(from('192.0.2.66')).set('Authorization', 'Bearer guess').expect(401);
    // The bucket is shared: once the admin door is spent, the management door refuses the address too.
    expect(
      (
        await t
          .http()
          .get('/api/mica/developer/keys')
          .set(from('192.0.2.66'))
          .set(bearer('c'.repeat(64)))
          .expect(429)
      ).body.error.code,
    ).toBe('RATE_LIMIT_EXCEEDED');
    expect(
      Number(
        (await t.http().get('/api/admin/instances').set(from('192.0.2.66')).set('Authorization', 'Bearer guess').expect(429)).headers[
          'retry-after'
        ],
      ),
    ).toBeGreaterThan(0);

    // Valid credentials from the limited address, and failures from another one, are unaffected.
    await t.http().get('/api/admin/instances').set(attacker).set(t.admin).expect(200);
    await t.http().get('/api/mica/developer/keys').set(attacker).set(bearer(dev.managementToken)).expect(200);
    await t.http().get('/api/keys').set(attacker).set('X-API-Key', inst.key).expect(200);
    await t.http().get('/api/mica/v1/health').set(attacker).set('X-API-Key', dev.apiKey).expect(200);
    expect(
      (await t.http().get('/api/admin/instances').set(from('192.0.2.67')).set('Authorization', 'Bearer guess').expect(401)).body.error.code,
    ).toBe('INVALID_TOKEN');

    // Attempts past the limit leave no audit rows: a flood cannot fill the audit trail.
    const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM audit_events WHERE ip = '192.0.2.66' AND request_id LIKE $1`, [
      `${run}-%`,
    ]);
    expect(n).toBe(3);
  });
});

describe('secrets at rest', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '1000000' });
  });
  afterAll(() => t.close());

  it('stores no issued secret, nor anything shaped like one, in any table', async () => {
    const secrets: string[] = [];
    const inst = await createInstance(t, ['trading']);
    secrets.push(inst.key);
    secrets.push((await t.http().post(adminKeys(inst.ref)).set(t.admin).send({ name: 'second' }).expect(201)).body.data.key);
    secrets.push(
      (
        await t
          .http()
          .post(adminKeys(inst.ref, `/${inst.keyId}/rotate`))
          .set(t.admin)
          .send({})
          .expect(201)
      ).body.data.key,
    );
    secrets.push((await t.http().post('/api/keys').set('X-API-Key', secrets[1]).send({ name: 'self' }).expect(201)).body.data.key);
    const reg = (
      await t
        .http()
        .post('/api/mica/developer/register')
        .send({ name: 'Keeper', email: uniqueEmail('keeper') })
        .expect(201)
    ).body.data;
    secrets.push(reg.apiKey, reg.managementToken);
    const second = (await t.http().post('/api/mica/developer/keys').set(bearer(reg.managementToken)).send({ name: 'two' }).expect(201)).body
      .data;
    secrets.push(second.apiKey);
    secrets.push(
      (await t.http().post(`/api/mica/developer/keys/${second.id}/rotate`).set(bearer(reg.managementToken)).send({}).expect(201)).body.data
        .apiKey,
    );
    const rotatedToken = (
      await t.http().post('/api/mica/developer/management-token/rotate').set(bearer(reg.managementToken)).send({}).expect(201)
    ).body.data.managementToken;
    secrets.push(rotatedToken);
    // Every secret was used once, so usage counters and audit rows exist for each kind.
    await t.http().get('/api/auth/verify').set('X-API-Key', secrets[3]).expect(200);
    await t.http().get('/api/mica/v1/health').set('X-API-Key', reg.apiKey).expect(200);
    await t.http().get('/api/mica/developer/events').set(bearer(rotatedToken)).expect(200);

    const tables: Array<{ name: string }> = await t.dataSource.query(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`,
    );
    expect(tables.map((r) => r.name)).toEqual(
      expect.arrayContaining(['instances', 'instance_keys', 'audit_events', 'mica_developers', 'mica_keys']),
    );
    const offences: string[] = [];
    for (const { name } of tables) {
      const rows: Array<{ row: string }> = await t.dataSource.query(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
      for (const { row } of rows) {
        for (const secret of secrets) if (row.includes(secret)) offences.push(`${name} holds an issued secret`);
        // Credential digests are stored as bytea (rendered "\x…" here); the register's columns and sync
        // reports name their hashes of public ESMA files (sha256, source_sha256, content_hash; jsonb
        // renders `": "` with a space). Hashes, not secrets: every issued secret is still searched for above.
        const withoutDigests = row.replace(/\\\\x[0-9a-f]+/g, '').replace(/"[a-z_]*(sha256|digest|hash)":\s*"[0-9a-f]{64}"/gi, '');
        for (const [shape, pattern] of SECRET_SHAPES)
          if (pattern.test(withoutDigests)) offences.push(`${name} holds something shaped like a ${shape}`);
      }
    }
    expect(offences).toEqual([]);
  });
});
