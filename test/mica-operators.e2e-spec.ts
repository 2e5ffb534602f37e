import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { pollUntil } from './support/scale-helpers';
import { LIMITS_OUT_OF_REACH, onPostgresServer, startTestApp, TestApp } from './support/test-app';

interface Account {
  id: string;
  email: string;
  name: string;
  apiKey: string;
  token: string;
}

describe('operators and MiCA accounts (SPEC §16)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(LIMITS_OUT_OF_REACH);
  });
  afterAll(() => t?.close());

  const base = '/api/admin/mica/developers';
  async function register(name = 'Grace Hopper', email = `grace.${randomUUID()}@example.com`): Promise<Account> {
    const res = await t.http().post('/api/mica/developer/register').send({ name, email }).expect(201);
    const d = res.body.data;
    return { id: d.developer.id, email, name, apiKey: d.apiKey, token: d.managementToken };
  }
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const data = (a: Account) => t.http().get('/api/mica/v1/health').set('X-API-Key', a.apiKey);
  const manage = (a: Account) => t.http().get('/api/mica/developer/keys').set(bearer(a.token));
  const suspend = (id: string, reason = 'Scraping beyond the free tier') =>
    t.http().post(`${base}/${id}/suspend`).set(t.admin).send({ reason });

  describe('list and search', () => {
    it('finds an account by part of its email, part of its name, or its id, newest first with pagination', async () => {
      const tag = randomUUID().slice(0, 8);
      const a = await register(`Ada ${tag}`, `ada.${tag}@example.com`);
      const b = await register(`Bob ${tag}`, `bob.${tag}@example.com`);
      const byName = await t.http().get(base).set(t.admin).query({ search: tag.toUpperCase() }).expect(200);
      expect(byName.body.data.map((d: { id: string }) => d.id)).toEqual([b.id, a.id]);
      expect(byName.body.pagination).toMatchObject({ total: 2, returned: 2, hasMore: false });
      const byEmail = await t
        .http()
        .get(base)
        .set(t.admin)
        .query({ search: `ada.${tag}@` })
        .expect(200);
      expect(byEmail.body.data.map((d: { id: string }) => d.id)).toEqual([a.id]);
      const byId = await t.http().get(base).set(t.admin).query({ search: b.id }).expect(200);
      expect(byId.body.data.map((d: { id: string }) => d.id)).toEqual([b.id]);
      expect(byId.body.data[0]).toMatchObject({
        email: b.email,
        name: b.name,
        status: 'ACTIVE',
        activeKeys: 1,
        requestCount: 0,
        suspendedAt: null,
        erasedAt: null,
      });
      const page = await t.http().get(base).set(t.admin).query({ search: tag, limit: 1, offset: 1 }).expect(200);
      expect(page.body.data.map((d: { id: string }) => d.id)).toEqual([a.id]);
      expect(page.body.pagination).toMatchObject({ total: 2, returned: 1, limit: 1, offset: 1, hasMore: false });
    });

    it('takes % and _ in a search literally, filters by status, and refuses an unknown status or parameter', async () => {
      const tag = randomUUID().slice(0, 8);
      const a = await register(`Under_score ${tag}`);
      await register(`Underxscore ${tag}`);
      const literal = await t
        .http()
        .get(base)
        .set(t.admin)
        .query({ search: `under_score ${tag}` })
        .expect(200);
      expect(literal.body.data.map((d: { id: string }) => d.id)).toEqual([a.id]);
      await suspend(a.id).expect(200);
      const suspended = await t.http().get(base).set(t.admin).query({ search: tag, status: 'SUSPENDED' }).expect(200);
      expect(suspended.body.data.map((d: { id: string }) => d.id)).toEqual([a.id]);
      await t.http().get(base).set(t.admin).query({ status: 'asleep' }).expect(400);
      await t.http().get(base).set(t.admin).query({ sort: 'name' }).expect(400);
    });

    it('shows one account with its keys and usage, never a secret; an unknown or malformed id is 404', async () => {
      const a = await register();
      await data(a).expect(200);
      await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({ name: 'second' }).expect(201);
      const res = await t.http().get(`${base}/${a.id}`).set(t.admin).expect(200);
      expect(res.body.data.developer).toMatchObject({ id: a.id, email: a.email, status: 'ACTIVE', activeKeys: 2 });
      expect(res.body.data.keys.map((k: { name: string }) => k.name)).toEqual(['second', 'key']);
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(a.apiKey);
      expect(text).not.toContain(a.token);
      expect(text).not.toMatch(/digest/i);
      await t.http().get(`${base}/${randomUUID()}`).set(t.admin).expect(404);
      await t.http().get(`${base}/not-a-uuid`).set(t.admin).expect(404);
    });

    it('needs the admin token: a management token is refused', async () => {
      const a = await register();
      await t.http().get(base).expect(401);
      expect((await t.http().get(base).set(bearer(a.token)).expect(401)).body.error.code).toBe('INVALID_TOKEN');
    });
  });

  describe('suspension', () => {
    it('refuses every key with INVALID_KEY and the token with INVALID_TOKEN from the next request, audited with the reason', async () => {
      const a = await register();
      const second = (await t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({}).expect(201)).body.data.apiKey;
      await data(a).expect(200);
      await data(a).expect(200); // now answered from the key-check cache
      const res = await suspend(a.id, 'Abuse report #42').expect(200);
      expect(res.body.data).toMatchObject({ status: 'SUSPENDED', suspensionReason: 'Abuse report #42', suspendedAt: expect.any(String) });
      expect((await data(a).expect(401)).body.error.code).toBe('INVALID_KEY');
      expect((await t.http().get('/api/mica/v1/health').set('X-API-Key', second).expect(401)).body.error.code).toBe('INVALID_KEY');
      expect((await manage(a).expect(401)).body.error.code).toBe('INVALID_TOKEN');
      const events = (await t.http().get(`${base}/${a.id}/events`).set(t.admin).expect(200)).body.data;
      expect(events[0]).toMatchObject({ action: 'mica.developer.suspended', actor: 'admin', details: { reason: 'Abuse report #42' } });
    });

    it('keeps the mailbox taken: registering again under it (in any case) is EMAIL_EXISTS', async () => {
      const a = await register();
      await suspend(a.id).expect(200);
      const res = await t.http().post('/api/mica/developer/register').send({ name: 'Again', email: a.email.toUpperCase() }).expect(409);
      expect(res.body.error.code).toBe('EMAIL_EXISTS');
    });

    it('changes nothing when suspended twice, and restore admits the keys and the token again at once', async () => {
      const a = await register();
      await data(a).expect(200);
      await suspend(a.id, 'first').expect(200);
      await data(a).expect(401); // the refusal is cached for the account
      const again = await suspend(a.id, 'second').expect(200);
      expect(again.body.data.suspensionReason).toBe('first');
      const restored = await t.http().post(`${base}/${a.id}/restore`).set(t.admin).expect(200);
      expect(restored.body.data).toMatchObject({ status: 'ACTIVE', suspendedAt: null, suspensionReason: null });
      await data(a).expect(200);
      await manage(a).expect(200);
      const actions = (await t.http().get(`${base}/${a.id}/events`).set(t.admin).expect(200)).body.data.map(
        (e: { action: string }) => e.action,
      );
      expect(actions.filter((x: string) => x === 'mica.developer.suspended')).toHaveLength(1);
      expect(actions[0]).toBe('mica.developer.restored');
    });

    it('lets no management change through that was in flight when the suspension committed, in 10 trials', async () => {
      for (let trial = 0; trial < 10; trial++) {
        const a = await register();
        const results = await Promise.all([
          ...Array.from({ length: 4 }, () => t.http().post('/api/mica/developer/keys').set(bearer(a.token)).send({})),
          suspend(a.id),
        ]);
        const created = results.slice(0, 4).filter((r) => r.status === 201).length;
        expect(results[4].status).toBe(200);
        expect(results.slice(0, 4).every((r) => r.status === 201 || r.status === 401 || r.status === 409)).toBe(true);
        const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM mica_keys WHERE developer_id = $1`, [a.id]);
        expect(n).toBe(1 + created);
        // Audit times are clock_timestamp() at insert, taken under the account's row lock: a key
        // created after the suspension committed would carry a later time than the suspension's event.
        const [{ late }] = await t.dataSource.query(
          `SELECT count(*)::int AS late FROM audit_events c
             JOIN audit_events s ON s.developer_id = c.developer_id AND s.action = 'mica.developer.suspended'
            WHERE c.developer_id = $1 AND c.action = 'mica.key.created' AND c.at > s.at`,
          [a.id],
        );
        expect(late).toBe(0);
      }
    });

    (onPostgresServer ? it : it.skip)(
      'refuses a key creation that passed the token check but got the account lock only after a suspension committed',
      async () => {
        const a = await register();
        const locker = new Client({ connectionString: process.env.TEST_DATABASE_URL });
        await locker.connect();
        try {
          await locker.query('BEGIN');
          await locker.query('SELECT id FROM mica_developers WHERE id = $1 FOR UPDATE', [a.id]);
          const creating = t
            .http()
            .post('/api/mica/developer/keys')
            .set(bearer(a.token))
            .send({ name: 'in flight' })
            .then((r) => r);
          // The request has passed the token check and waits for the account's row lock.
          const waiting = await pollUntil(
            // Asked on another connection: pg_stat_activity is a snapshot fixed for the locker's transaction.
            async () =>
              (
                await t.dataSource.query(
                  `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%mica_developers%FOR UPDATE%'`,
                )
              )[0].n,
            (n) => n > 0,
            5000,
          );
          expect(waiting).toBeGreaterThan(0);
          // The suspension commits while the request waits (as the admin route would, under the same lock).
          await locker.query(
            `UPDATE mica_developers SET status = 'SUSPENDED', suspended_at = now(), suspension_reason = 'race' WHERE id = $1`,
            [a.id],
          );
          await locker.query('COMMIT');
          const res = await creating;
          expect([res.status, res.body.error?.code]).toEqual([401, 'INVALID_TOKEN']);
          const [{ n }] = await t.dataSource.query(`SELECT count(*)::int AS n FROM mica_keys WHERE developer_id = $1`, [a.id]);
          expect(n).toBe(1);
        } finally {
          await locker.query('ROLLBACK').catch(() => undefined);
          await locker.end();
        }
      },
    );

    it('refuses a suspension without a reason, with a line break in it, or with unknown fields', async () => {
      const a = await register();
      await t.http().post(`${base}/${a.id}/suspend`).set(t.admin).send({}).expect(400);
      await t.http().post(`${base}/${a.id}/suspend`).set(t.admin).send({ reason: 'a\nb' }).expect(400);
      await t.http().post(`${base}/${a.id}/suspend`).set(t.admin).send({ reason: 'r', until: 'never' }).expect(400);
      await t.http().post(`${base}/${a.id}/restore`).set(t.admin).send({ reason: 'r' }).expect(400);
      await data(a).expect(200);
    });
  });

  describe('erasure', () => {
    it('revokes every key, removes name and email, anonymises the audit trail and frees the mailbox', async () => {
      const a = await register('Erin Erasable');
      await data(a).expect(200);
      const res = await t.http().delete(`${base}/${a.id}`).set(t.admin).expect(200);
      expect(res.body.data).toMatchObject({
        id: a.id,
        email: null,
        name: null,
        status: 'ERASED',
        activeKeys: 0,
        erasedAt: expect.any(String),
      });
      expect((await data(a).expect(401)).body.error.code).toBe('INVALID_KEY');
      expect((await manage(a).expect(401)).body.error.code).toBe('INVALID_TOKEN');

      const rows: Array<{ action: string; ip: string | null; details: string }> = await t.dataSource.query(
        `SELECT action, ip, details::text AS details FROM audit_events WHERE developer_id = $1 ORDER BY at`,
        [a.id],
      );
      expect(rows.map((r) => r.action)).toEqual([
        'mica.developer.registered',
        'mica.key.created',
        'mica.key.revoked',
        'mica.developer.erased',
      ]);
      for (const r of rows) {
        expect(r.details).not.toContain(a.email);
        expect(r.details).not.toContain('Erin');
      }
      // The account's own events lose the client address; the operator's erasure keeps the operator's.
      expect(rows.slice(0, 2).map((r) => r.ip)).toEqual([null, null]);
      const [stored] = await t.dataSource.query(`SELECT email, name FROM mica_developers WHERE id = $1`, [a.id]);
      expect(stored).toEqual({ email: null, name: null });

      const again = await t.http().post('/api/mica/developer/register').send({ name: 'Erin Again', email: a.email }).expect(201);
      expect(again.body.data.developer.id).not.toBe(a.id);
    });

    it('refuses to erase, suspend or restore an erased account with 409 ACCOUNT_ERASED', async () => {
      const a = await register();
      await t.http().delete(`${base}/${a.id}`).set(t.admin).expect(200);
      expect((await t.http().delete(`${base}/${a.id}`).set(t.admin).expect(409)).body.error.code).toBe('ACCOUNT_ERASED');
      await suspend(a.id).expect(409);
      await t.http().post(`${base}/${a.id}/restore`).set(t.admin).expect(409);
      const listed = await t.http().get(base).set(t.admin).query({ search: a.id }).expect(200);
      expect(listed.body.data).toEqual([expect.objectContaining({ id: a.id, status: 'ERASED', email: null })]);
    });

    it('erases a suspended account, after which the mailbox is free', async () => {
      const a = await register();
      await suspend(a.id).expect(200);
      await t.http().delete(`${base}/${a.id}`).set(t.admin).expect(200);
      await t.http().post('/api/mica/developer/register').send({ name: 'Back', email: a.email }).expect(201);
    });
  });
});
