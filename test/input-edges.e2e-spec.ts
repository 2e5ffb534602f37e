import { randomBytes, randomUUID } from 'node:crypto';
import { backfillCanonicalEmails, EMAIL_CONFLICT_ACTION } from '../migrations/1796000000000-AddCanonicalEmail';
import { UsageTracker } from '../src/usage/usage.tracker';
import { createInstance } from './support/instance-fixtures';
import { LIMITS_OUT_OF_REACH, startTestApp, TestApp } from './support/test-app';

/** Issue #11, items 8, 9, 10 and 14: other spellings of one mailbox, odd but legal input, empty parameters. */
const apiKey = (key: string) => ({ 'X-API-Key': key });
const raw = (t: TestApp, path: string, json: string, headers: Record<string, string> = {}) =>
  t
    .http()
    .post(path)
    .set({ 'Content-Type': 'application/json', ...headers })
    .send(json);
const codeOf = (res: { status: number; body: { error?: { code: string } } }) => `${res.status} ${res.body.error?.code ?? ''}`.trim();

describe('security at the edges: input', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
  });
  afterAll(() => t.close());

  const register = (email: string, name = 'Edge Tester') => t.http().post('/api/mica/developer/register').send({ name, email });

  describe('#11 item 8: one account per mailbox, however the address is written', () => {
    it('answers EMAIL_EXISTS to plus-tags, case, fullwidth letters, NFD and surrounding space', async () => {
      const id = randomBytes(4).toString('hex');
      await register(`rene.${id}@example.com`).expect(201);
      const variants = [
        `rene.${id}+newsletter@example.com`,
        `RENE.${id}@EXAMPLE.COM`,
        `ｒｅｎｅ.${id}@example.com`,
        `  rene.${id}@example.com  `,
        `Rene.${id}+a+b@Example.com`,
      ];
      for (const email of variants) expect([email, codeOf(await register(email))]).toEqual([email, '409 EMAIL_EXISTS']);
      await register(`r\u00e9ne.${id}@example.com`).expect(201);
      expect(codeOf(await register(`re\u0301ne.${id}@example.com`))).toBe('409 EMAIL_EXISTS');
    });

    it.each([
      ['zero-width space', '\u200b'],
      ['soft hyphen', '\u00ad'],
      ['zero-width joiner', '\u200d'],
      ['right-to-left override', '\u202e'],
      ['byte order mark', '\ufeff'],
      ['no-break space', '\u00a0'],
    ])('refuses an address holding a %s with VALIDATION_ERROR', async (_, c) => {
      expect(codeOf(await register(`ada${c}.${randomUUID()}@example.com`))).toBe('400 VALIDATION_ERROR');
    });

    it(`gives exactly one account to 20 parallel signups in 20 spellings of one mailbox (10 trials)`, async () => {
      for (let trial = 0; trial < 10; trial++) {
        const id = randomBytes(4).toString('hex');
        const spellings = Array.from({ length: 20 }, (_, i) => (i % 2 ? `Mail.${id}+t${i}@example.com` : `mail.${id}+${i}@EXAMPLE.com`));
        const results = await Promise.all(spellings.map((email) => register(email)));
        expect(results.map(codeOf).sort()).toEqual(['201', ...Array(19).fill('409 EMAIL_EXISTS')]);
      }
    });

    it('keeps both accounts of one mailbox made before canonical comparison, and reports the younger one once', async () => {
      const id = randomBytes(4).toString('hex');
      const insert = (email: string, at: string) =>
        t.dataSource.query(
          `INSERT INTO mica_developers (email, name, management_token_digest, created_at) VALUES ($1, 'Old', $2, $3::timestamptz) RETURNING id`,
          [email, randomBytes(32), at],
        );
      const [older] = await insert(`dup.${id}@example.com`, '2025-01-01T00:00:00Z');
      const [younger] = await insert(`Dup.${id}+shop@example.com`, '2025-02-01T00:00:00Z');
      const runner = t.dataSource.createQueryRunner();
      try {
        const first = await backfillCanonicalEmails(runner);
        expect(first.conflicts).toBeGreaterThanOrEqual(1);
        await backfillCanonicalEmails(runner);
      } finally {
        await runner.release();
      }
      const rows = await t.dataSource.query(
        `SELECT id, email_canonical FROM mica_developers WHERE id = ANY($1::uuid[]) ORDER BY created_at`,
        [[older.id, younger.id]],
      );
      expect(rows).toEqual([
        { id: older.id, email_canonical: `dup.${id}@example.com` },
        { id: younger.id, email_canonical: null },
      ]);
      const reports = await t.dataSource.query(`SELECT details FROM audit_events WHERE action = $1 AND target_id = $2`, [
        EMAIL_CONFLICT_ACTION,
        younger.id,
      ]);
      expect(reports).toEqual([{ details: { sameMailboxAs: older.id } }]);
      expect(codeOf(await register(`DUP.${id}@example.com`))).toBe('409 EMAIL_EXISTS');
    });
  });

  describe('#11 item 9: legal or odd input is a 400, never a 500', () => {
    it('refuses a lone surrogate in an email or a name with VALIDATION_ERROR', async () => {
      const email = `lone.${randomUUID()}@example.com`;
      expect(codeOf(await raw(t, '/api/mica/developer/register', `{"name":"Ada","email":"a\\ud800${email}"}`))).toBe(
        '400 VALIDATION_ERROR',
      );
      expect(codeOf(await raw(t, '/api/mica/developer/register', `{"name":"Ada \\udc00 L","email":"${email}"}`))).toBe(
        '400 VALIDATION_ERROR',
      );
      expect(codeOf(await raw(t, '/api/admin/instances', `{"name":"x\\ud83d"}`, t.admin))).toBe('400 VALIDATION_ERROR');
    });

    it('counts name lengths in code points, as the database does', async () => {
      const hearts = (n: number) => '\u2764\ufe0f'.repeat(n);
      expect(codeOf(await register(`heart.${randomUUID()}@example.com`, hearts(51)))).toBe('400 VALIDATION_ERROR');
      await register(`heart.${randomUUID()}@example.com`, hearts(50)).expect(201);
      expect(
        codeOf(
          await t
            .http()
            .post('/api/admin/instances')
            .set(t.admin)
            .send({ name: hearts(51) }),
        ),
      ).toBe('400 VALIDATION_ERROR');
      const inst = await createInstance(t);
      expect(
        codeOf(
          await t
            .http()
            .post('/api/keys')
            .set(apiKey(inst.key))
            .send({ name: hearts(51) }),
        ),
      ).toBe('400 VALIDATION_ERROR');
      await t
        .http()
        .post('/api/keys')
        .set(apiKey(inst.key))
        .send({ name: hearts(50) })
        .expect(201);
    });

    it('bounds JSON depth before validation: 2,000 levels are a 400 on the public registration and the admin door', async () => {
      const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);
      expect(codeOf(await raw(t, '/api/mica/developer/register', `{"name":"Ada","email":"d@example.com","x":${deep(2000)}}`))).toBe(
        '400 VALIDATION_ERROR',
      );
      expect(codeOf(await raw(t, '/api/mica/developer/register', `{"name":${deep(2000)}}`))).toBe('400 VALIDATION_ERROR');
      const nested = '{"a":'.repeat(2000) + '1' + '}'.repeat(2000);
      expect(codeOf(await raw(t, '/api/admin/instances', nested, t.admin))).toBe('400 VALIDATION_ERROR');
    });

    it.each([
      ['right-to-left override', '\u202e'],
      ['left-to-right isolate', '\u2066'],
      ['C1 next-line', '\u0085'],
      ['line separator', '\u2028'],
      ['paragraph separator', '\u2029'],
      ['arabic letter mark', '\u061c'],
    ])('refuses a %s in instance, key and developer names', async (_, c) => {
      const name = `evil${c}name`;
      expect(codeOf(await t.http().post('/api/admin/instances').set(t.admin).send({ name }))).toBe('400 VALIDATION_ERROR');
      expect(codeOf(await register(`bidi.${randomUUID()}@example.com`, name))).toBe('400 VALIDATION_ERROR');
      const inst = await createInstance(t);
      expect(codeOf(await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name }))).toBe('400 VALIDATION_ERROR');
    });
  });

  describe('#11 item 10: an empty service parameter is refused', () => {
    it('answers ?service= with VALIDATION_ERROR for a valid key, and AUTH_FAILED first for an invalid one', async () => {
      const inst = await createInstance(t, ['trading']);
      const res = await t.http().get('/api/auth/verify?service=').set(apiKey(inst.key));
      expect(codeOf(res)).toBe('400 VALIDATION_ERROR');
      expect(res.body.error.details).toEqual({ service: [expect.any(String)] });
      expect(
        codeOf(
          await t
            .http()
            .get('/api/auth/verify?service=')
            .set(apiKey(`trusset_${inst.ref}_${'0'.repeat(64)}`)),
        ),
      ).toBe('401 AUTH_FAILED');
      await t.http().get('/api/auth/verify').set(apiKey(inst.key)).expect(200);
    });
  });

  describe('#11 item 14: smaller edges', () => {
    const requestCount = async (keyId: string) => {
      await t.app.get(UsageTracker).flush();
      const [row] = await t.dataSource.query(`SELECT request_count::int AS n FROM instance_keys WHERE id = $1`, [keyId]);
      return row.n;
    };

    it('counts only admitted requests in requestCount (not 400, 403)', async () => {
      const inst = await createInstance(t, ['trading']);
      const before = await requestCount(inst.keyId);
      await t.http().get('/api/auth/verify?service=lending').set(apiKey(inst.key)).expect(403);
      await t.http().get('/api/auth/verify?service=').set(apiKey(inst.key)).expect(400);
      await t.http().get('/api/auth/verify?other=1').set(apiKey(inst.key)).expect(400);
      await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: '' }).expect(400);
      expect(await requestCount(inst.keyId)).toBe(before);
      await t.http().get('/api/auth/verify?service=trading').set(apiKey(inst.key)).expect(200);
      await t.http().get('/api/keys').set(apiKey(inst.key)).expect(200);
      expect(await requestCount(inst.keyId)).toBe(before + 2);
    });

    it('refuses times without a UTC offset with VALIDATION_ERROR', async () => {
      const inst = await createInstance(t);
      const other = (await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'other' }).expect(201)).body.data;
      for (const at of ['2030-01-01T00:00:00', '2030-01-01T00:00', '2030-01-01']) {
        expect([at, codeOf(await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'local', expiresAt: at }))]).toEqual([
          at,
          '400 VALIDATION_ERROR',
        ]);
        expect([at, codeOf(await t.http().post(`/api/keys/${other.id}/pause`).set(apiKey(inst.key)).send({ until: at }))]).toEqual([
          at,
          '400 VALIDATION_ERROR',
        ]);
      }
      await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'utc', expiresAt: '2030-01-01T00:00:00Z' }).expect(201);
      await t.http().post('/api/keys').set(apiKey(inst.key)).send({ name: 'offset', expiresAt: '2030-01-01T00:00:00+02:00' }).expect(201);
    });

    it.each(['__proto__', 'constructor', 'prototype'])('refuses a %s body field like any unknown field', async (field) => {
      const inst = await createInstance(t);
      const res = await raw(t, '/api/keys', `{"name":"x","${field}":{"polluted":true}}`, apiKey(inst.key));
      expect(codeOf(res)).toBe('400 VALIDATION_ERROR');
      expect(Object.keys(res.body.error.details ?? {})).toEqual([field]);
      expect(
        codeOf(await raw(t, '/api/mica/developer/register', `{"name":"Ada","email":"p.${randomUUID()}@example.com","${field}":{}}`)),
      ).toBe('400 VALIDATION_ERROR');
    });
  });
});
