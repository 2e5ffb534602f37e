import { randomUUID } from 'node:crypto';
import { startTestApp, TEST_ADMIN_TOKEN, TestApp } from './support/test-app';

describe('admin authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '1000' });
  });
  afterAll(() => t.close());

  it.each([
    ['no header', undefined, 'UNAUTHORIZED'],
    ['empty header', '', 'UNAUTHORIZED'],
    ['another scheme', `Basic ${TEST_ADMIN_TOKEN}`, 'UNAUTHORIZED'],
    ['bearer without token', 'Bearer ', 'UNAUTHORIZED'],
    ['a wrong token', 'Bearer wrong', 'INVALID_TOKEN'],
    ['a token one character short', `Bearer ${TEST_ADMIN_TOKEN.slice(0, -1)}`, 'INVALID_TOKEN'],
    ['a token with a suffix', `Bearer ${TEST_ADMIN_TOKEN}x`, 'INVALID_TOKEN'],
    ['a very long token', `Bearer ${'a'.repeat(4000)}`, 'INVALID_TOKEN'],
  ])('refuses %s', async (_, header, code) => {
    const req = t.http().get('/api/admin/instances');
    if (header !== undefined) req.set('Authorization', header);
    const res = await req.expect(401);
    expect(res.body.error.code).toBe(code);
  });

  it('accepts the scheme in any case', async () => {
    await t.http().get('/api/admin/instances').set('Authorization', `bEaReR ${TEST_ADMIN_TOKEN}`).expect(200);
  });

  it('records failed attempts in the audit trail without the presented token', async () => {
    const requestId = `audit-probe-${randomUUID()}`;
    await t
      .http()
      .get('/api/admin/instances')
      .set('Authorization', 'Bearer guess-that-must-not-be-stored')
      .set('X-Request-Id', requestId)
      .expect(401);
    const rows = await t.dataSource.query(
      `SELECT actor_type, action, ip, details::text AS details FROM audit_events WHERE request_id = $1`,
      [requestId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_type: 'anonymous', action: 'admin.auth_failed' });
    expect(rows[0].details).not.toContain('guess-that-must-not-be-stored');
  });
});

describe('strict limiter on failed admin attempts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_STRICT_PER_MINUTE: '3' });
  });
  afterAll(() => t.close());

  it('slows failures from one address with 429 while valid tokens keep working', async () => {
    for (let i = 0; i < 3; i++) await t.http().get('/api/admin/instances').set('Authorization', 'Bearer wrong').expect(401);
    const limited = await t.http().get('/api/admin/instances').set('Authorization', 'Bearer wrong').expect(429);
    expect(limited.body.error.code).toBe('RATE_LIMIT_EXCEEDED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    await t.http().get('/api/admin/instances').set(t.admin).expect(200);
  });
});
